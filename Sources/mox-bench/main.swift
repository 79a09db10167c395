// mox-bench: the message and store benchmarks that `make bench` runs (scripts/bench-store).
// Prints one result line per benchmark on standard output, progress on standard error. Not a
// product and not linked into `mox`.
//
// usage: mox-bench WORKDIR [parse|deliver|mailbox|all|dkim|spfdmarc]
//   parse    MB/s of MailMessage parsing over plain text messages, multiparts, and both mixed
//   deliver  10,000 messages of 5 KB, sequentially and from 8 concurrent tasks, fully durable
//   mailbox  a 100,000-message mailbox: listing UIDs and flags, and a full-text query
//   dkim, spfdmarc: the mail authentication benchmarks (AuthBench.swift), not part of "all"

import MailMessage
import MailStore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Helpers

/// Hands out 0, 1, 2, ... to concurrent tasks.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    func take() -> Int { self.value.wrappingAdd(1, ordering: .relaxed).oldValue }
}

/// One result line on standard output, unbuffered.
func report(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
}

func progress(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func format(_ value: Double, _ decimals: Int = 1) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int((value * scale).rounded())
    if decimals == 0 { return String(scaled) }
    let whole = scaled / Int(scale)
    var fraction = String(scaled % Int(scale))
    while fraction.count < decimals { fraction = "0" + fraction }
    return "\(whole).\(fraction)"
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

struct Generator {
    var state: UInt64
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

let words = [
    "the", "message", "server", "delivery", "mailbox", "account", "report", "meeting", "budget", "quarter",
    "invoice", "schedule", "project", "release", "review", "please", "attached", "thanks", "regards", "tomorrow",
    "network", "storage", "request", "update", "status", "customer", "question", "answer", "document", "draft",
]

func words(_ count: Int, _ random: inout Generator) -> String {
    var text = ""
    var column = 0
    for _ in 0..<count {
        let word = words[Int(random.next() % UInt64(words.count))]
        if column + word.count > 72 {
            text += "\r\n"
            column = 0
        } else if column > 0 {
            text += " "
            column += 1
        }
        text += word
        column += word.count
    }
    return text + "\r\n"
}

func headers(_ n: Int, subject: String) -> String {
    """
    Received: from mail.example.org (mail.example.org [192.0.2.1])\r
    \tby mx.example.com with ESMTPS id \(n)\r
    \tfor <user@example.com>; Tue, 24 Nov 2026 10:00:00 +0000\r
    DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=sel; h=from:to:subject:date;\r
    \tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZQ==\r
    From: "Sender \(n)" <sender\(n)@example.org>\r
    To: User <user@example.com>, =?utf-8?q?J=C3=B6rg?= <jorg@example.com>\r
    Subject: \(subject)\r
    Date: Tue, 24 Nov 2026 10:00:00 +0000\r
    Message-ID: <\(n).bench@example.org>\r
    MIME-Version: 1.0\r

    """
}

func plainMessage(_ n: Int, bodyWords: Int, _ random: inout Generator) -> [UInt8] {
    let text =
        headers(n, subject: "plain text message \(n)")
        + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + words(bodyWords, &random)
    return Array(text.utf8)
}

func base64(_ bytes: [UInt8]) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var out: [UInt8] = []
    var column = 0
    var i = 0
    while i + 2 < bytes.count {
        let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
        for shift in [18, 12, 6, 0] as [UInt32] { out.append(alphabet[Int((v >> shift) & 63)]) }
        i += 3
        column += 4
        if column == 76 {
            out.append(contentsOf: [13, 10])
            column = 0
        }
    }
    out.append(contentsOf: [13, 10])
    return String(decoding: out, as: UTF8.self)
}

func multipartMessage(_ n: Int, _ random: inout Generator) -> [UInt8] {
    let text = words(400, &random)
    let html = "<html><body><p>" + text.replacing("\r\n", with: "</p>\r\n<p>") + "</p></body></html>\r\n"
    let attachment = (0..<(16 * 1024)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    let message =
        headers(n, subject: "multipart message \(n)")
        + "Content-Type: multipart/mixed; boundary=\"outer\(n)\"\r\n\r\n"
        + "This is a multi-part message in MIME format.\r\n"
        + "--outer\(n)\r\nContent-Type: multipart/alternative; boundary=\"inner\(n)\"\r\n\r\n"
        + "--inner\(n)\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + text
        + "--inner\(n)\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        + html
        + "--inner\(n)--\r\n"
        + "--outer\(n)\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\n"
        + "Content-Disposition: attachment; filename=\"report.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64(attachment)
        + "--outer\(n)--\r\n"
    return Array(message.utf8)
}

// MARK: - Parsing

/// MB/s (10^6 bytes) of `body` over `corpus`, repeated for at least `minimum` seconds, best of 3.
func throughput(_ corpus: [[UInt8]], minimum: Double = 1, _ body: ([UInt8]) -> Int) -> Double {
    let bytes = corpus.reduce(0) { $0 + $1.count }
    var best = 0.0
    var sink = 0
    for _ in 0..<3 {
        let start = ContinuousClock.now
        var rounds = 0
        repeat {
            for message in corpus { sink &+= body(message) }
            rounds += 1
        } while seconds(ContinuousClock.now - start) < minimum
        let rate = Double(bytes * rounds) / seconds(ContinuousClock.now - start) / 1e6
        best = max(best, rate)
    }
    if sink == 42 { progress("") }  // keeps the work from being optimized away
    return best
}

func benchParse() {
    var random = Generator(state: 1)
    // Plain text from short notes to long reports; multiparts with text, HTML and a 16 KB attachment.
    let plain = (0..<400).map { plainMessage($0, bodyWords: 100 + Int(random.next() % 8000), &random) }
    let multipart = (0..<100).map { multipartMessage($0, &random) }
    let mixed = plain.prefix(200) + multipart
    let parse: ([UInt8]) -> Int = { Message(parsing: $0).root.parts.count &+ $0.count }
    let mb = { (corpus: [[UInt8]]) in format(Double(corpus.reduce(0) { $0 + $1.count }) / 1e6, 1) }
    report("parse plain text: \(format(throughput(plain, parse))) MB/s (\(plain.count) messages, \(mb(plain)) MB)")
    report(
        "parse multipart: \(format(throughput(multipart, parse))) MB/s "
            + "(\(multipart.count) messages, \(mb(multipart)) MB)"
    )
    report(
        "parse mixed: \(format(throughput(Array(mixed), parse))) MB/s (\(mixed.count) messages, \(mb(Array(mixed))) MB)"
    )
    let extract: ([UInt8]) -> Int = { TextExtraction.text(of: Message(parsing: $0)).utf8.count }
    report("parse + text extraction mixed: \(format(throughput(Array(mixed), extract))) MB/s")
}

// MARK: - Delivery

func fiveKB(_ n: Int) -> [UInt8] {
    var random = Generator(state: UInt64(n))
    var message = plainMessage(n, bodyWords: 600, &random)
    if message.count > 5120 { message.removeLast(message.count - 5120) }
    while message.count < 5120 { message.append(contentsOf: Array("padding line\r\n".utf8)) }
    return Array(message.prefix(5120))
}

/// Why a benchmark could not run.
enum BenchError: Error, CustomStringConvertible {
    case noInbox(String)

    var description: String {
        switch self {
        case .noInbox(let account): return "account \(account) has no Inbox"
        }
    }
}

/// Delivers `count` messages from `tasks` concurrent tasks into a fresh account; returns msgs/s.
func deliver(workDir: String, name: String, count: Int, tasks: Int, size: (Int) -> [UInt8]) async throws -> Double {
    let account = try await Account.open(dataDir: workDir, name: name)
    guard let inbox = try await account.mailbox(named: "Inbox") else { throw BenchError.noInbox(name) }
    let messages = (0..<min(count, 1000)).map(size)
    let next = Counter()
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<tasks {
            group.addTask {
                while true {
                    let n = next.take()
                    guard n < count else { return }
                    _ = try await account.deliver(
                        messages[n % messages.count],
                        to: inbox.id,
                        received: 1_700_000_000,
                        searchText: "message \(n)"
                    )
                }
            }
        }
        try await group.waitForAll()
    }
    let rate = Double(count) / seconds(ContinuousClock.now - start)
    await account.close()
    return rate
}

func benchDeliver(workDir: String, count: Int) async throws {
    let sequential = try await deliver(workDir: workDir, name: "sequential", count: count, tasks: 1, size: fiveKB)
    report("deliver sequential: \(format(sequential, 0)) msgs/s (\(count) messages of 5 KB, durable)")
    for tasks in [8, 32] {
        let rate = try await deliver(
            workDir: workDir,
            name: "concurrent\(tasks)",
            count: count,
            tasks: tasks,
            size: fiveKB
        )
        report("deliver \(tasks) concurrent tasks: \(format(rate, 0)) msgs/s (\(count) messages of 5 KB, durable)")
    }
}

// MARK: - A large mailbox

func benchMailbox(workDir: String, count: Int) async throws {
    let account = try await Account.open(dataDir: workDir, name: "large")
    guard let inbox = try await account.mailbox(named: "Inbox") else { throw BenchError.noInbox("large") }
    let next = Counter()
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<64 {
            group.addTask {
                while true {
                    let n = next.take()
                    guard n < count else { return }
                    var random = Generator(state: UInt64(n))
                    let body = words(60, &random)
                    // One message in 1,000 mentions the word searched for below.
                    let subject = n % 1000 == 7 ? "quarterly zanzibar figures \(n)" : "message number \(n)"
                    let message = Array((headers(n, subject: subject) + "\r\n" + body).utf8)
                    _ = try await account.deliver(
                        message,
                        to: inbox.id,
                        flags: n % 3 == 0 ? .seen : [],
                        received: 1_700_000_000 + Int64(n),
                        searchText: "Subject: \(subject)\nFrom: sender\(n)@example.org\n" + body
                    )
                    if n % 10000 == 0 { progress("filled \(n) of \(count)") }
                }
            }
        }
        try await group.waitForAll()
    }
    progress("filled \(count) messages in \(format(seconds(ContinuousClock.now - start), 1)) s")
    // The background indexer catches up shortly after deliveries; measure searches on the
    // caught-up index, as a server sees it outside a burst.
    let indexing = ContinuousClock.now
    try await account.finishIndexing()
    progress("index caught up after \(format(seconds(ContinuousClock.now - indexing), 1)) s more")

    var listing: [Double] = []
    var listed = 0
    for _ in 0..<7 {
        let t = ContinuousClock.now
        listed = try await account.messageFlags(in: inbox.id).count
        listing.append(seconds(ContinuousClock.now - t) * 1000)
    }
    report("list uids+flags: \(format(median(listing), 1)) ms median of 7 (\(listed) messages)")

    for query in ["zanzibar", "quarterly zanzibar figures 5007", "budget quarter"] {
        var times: [Double] = []
        var found = 0
        for _ in 0..<7 {
            let t = ContinuousClock.now
            found = try await account.search(in: inbox.id, substring: query).count
            times.append(seconds(ContinuousClock.now - t) * 1000)
        }
        report("fts query \"\(query)\": \(format(median(times), 1)) ms median of 7 (\(found) of \(listed) match)")
    }
    await account.close()
}

// MARK: - Main

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    progress("usage: mox-bench WORKDIR [parse|deliver|mailbox|all|dkim|spfdmarc]")
    exit(2)
}
let workDir = arguments[1]
let which = arguments.count > 2 ? arguments[2] : "all"
let environment = { (name: String, fallback: Int) -> Int in
    getenv(name).flatMap { Int(String(cString: $0)) } ?? fallback
}
do {
    if which == "parse" || which == "all" {
        benchParse()
    }
    if which == "deliver" || which == "all" {
        try await benchDeliver(workDir: workDir, count: environment("BENCH_DELIVER", 10000))
    }
    if which == "mailbox" || which == "all" {
        try await benchMailbox(workDir: workDir, count: environment("BENCH_MAILBOX", 100_000))
    }
    if which == "dkim" {
        try await benchDKIM(workDir: workDir, count: environment("BENCH_DKIM", 100))
    }
    if which == "spfdmarc" {
        try await benchSPFDMARC(count: environment("BENCH_SPF_DOMAINS", 100))
    }
} catch {
    progress("mox-bench: \(error)")
    exit(1)
}
