import Testing

@testable import MailStore

@Suite struct TLSPublicKeyTests {
    static func key(_ fingerprint: String, account: String = "mjl", name: String = "laptop") -> TLSPublicKey {
        TLSPublicKey(
            fingerprint: fingerprint,
            created: 1_700_000_000,
            type: "ed25519",
            name: name,
            noIMAPPreauth: false,
            certificateDER: [0x30, 0x03, 0x02, 0x01, 0x01],
            account: account,
            loginAddress: account + "@example.org"
        )
    }

    @Test func addListGetRemove() throws {
        let dir = try TemporaryDirectory()
        let store = try TLSPublicKeyStore.open(dataDir: dir.path)
        try store.add(Self.key("AAA"))
        try store.add(Self.key("BBB", account: "other"))
        // A second key with the same fingerprint is refused.
        #expect(throws: StoreError.self) { try store.add(Self.key("AAA", name: "again")) }
        #expect(try store.list().map(\.fingerprint) == ["AAA", "BBB"])
        #expect(try store.list(account: "other").map(\.fingerprint) == ["BBB"])
        // Another process (the command line) sees the same file.
        let again = try TLSPublicKeyStore.open(dataDir: dir.path)
        #expect(try again.key(fingerprint: "AAA") == Self.key("AAA"))
        try again.remove(fingerprint: "AAA")
        #expect(try store.key(fingerprint: "AAA") == nil)
        #expect(throws: StoreError.self) { try store.remove(fingerprint: "AAA") }
    }
}
