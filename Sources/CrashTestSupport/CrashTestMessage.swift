/// The messages of the store's crash test, shared by the child that delivers them
/// (`mox-crashtest`) and the test that checks them (`MailStoreTests.CrashTests`), so both
/// always agree on what message `n` is. Not linked into `mox`.

/// The bytes of message `n`, the same on every run.
public func crashTestMessage(_ n: Int) -> [UInt8] {
    var state = UInt64(n) &* 0x9E37_79B9_7F4A_7C15 &+ 1
    func next() -> UInt64 {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    var text =
        "From: sender@example.org\r\nTo: test@example.org\r\nSubject: crash test \(n)\r\n"
        + "Message-ID: <\(n)@crashtest.example.org>\r\n\r\n"
    let lines = 5 + Int(next() % 300)
    for line in 0..<lines {
        text += "line \(line) of message \(n): \(String(next(), radix: 36))\r\n"
    }
    return Array(text.utf8)
}
