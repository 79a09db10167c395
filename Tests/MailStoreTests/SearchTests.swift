import GRDB
import Testing

@testable import MailStore

@Suite struct SearchTests {
    /// A corpus mixing case, punctuation, repeated letters and non-ASCII text.
    static let corpus: [String] = [
        "Subject: Quarterly report\nThe numbers for Q3 are in the attached spreadsheet.",
        "Subject: Lunch?\nAre you free for lunch on Friday? Café around the corner.",
        "Subject: RE: lunch\nYes! See you at the CAFÉ at noon.",
        "Subject: Übermorgen\nTreffen übermorgen um 10 Uhr, Raum 3.",
        "Subject: aaaa\naaaaaaa bbbb aaa",
        "Subject: invoice #12345\nPlease pay invoice 12345 by 2024-01-31.",
        "Subject: \"quoted\" words\nHe said \"hello\" and left.",
        "Subject: Mixed CaSe\nThe QuIcK BrOwN fOx jumps over the lazy dog.",
        "Subject: empty body\n",
        "Subject: x\nab",
        "Subject: Ελληνικά\nΚαλημέρα κόσμε",
        "Subject: unicode 日本語\n日本語のテキスト",
        // The Kelvin sign lower-cases to an ASCII "k": ASCII needles must still find it.
        "Subject: Kelvin\nIt is 300 \u{212A} outside",
    ]

    static let needles: [String] = [
        "", "a", "A", "ab", "aa", "aaa", "aaaa", "aaaaaaaa", "lunch", "LUNCH", "café", "CAFÉ", "caf", "über",
        "ÜBER", "12345", "#123", "2024-01", "\"hello\"", "\"", "quick brown", "the", "THE LAZY", "x", "xyz",
        "q3", "Q", "καλη", "ΚΑΛΗ", "日本", "日本語", "テキスト", "subject: re", " ", "dog.", "nothing here",
        "300 k", "300 K", "is 300",
    ]

    static func bruteForce(_ texts: [(UID, String)], _ needle: String) -> [UID] {
        let folded = Array(needle.lowercased().unicodeScalars)
        return texts.filter { uid, text in
            let haystack = Array(text.lowercased().unicodeScalars)
            if folded.isEmpty { return true }
            guard haystack.count >= folded.count else { return false }
            for i in 0...(haystack.count - folded.count) where haystack[i..<(i + folded.count)].elementsEqual(folded) {
                return true
            }
            return false
        }.map(\.0).sorted()
    }

    @Test func indexAndScanGiveTheSameAnswers() async throws {
        let dir = try TemporaryDirectory()
        let account = try await makeAccount(dir)
        // First with the background indexer stopped: text waits in messageTextPending (some may
        // be indexed already), and searches must scan it.
        await account.indexer.stop()
        let box = try await inbox(account)
        var texts: [(UID, String)] = []
        for (n, text) in Self.corpus.enumerated() {
            let delivered = try await account.deliver(sampleMessage(n), to: box, received: 0, searchText: text)
            texts.append((delivered.uid, text))
        }
        // An expunged message is no longer found.
        let gone = try await account.deliver(sampleMessage(99), to: box, received: 0, searchText: "lunch aaa ab")
        try await account.expunge(in: box, uids: [gone.uid])
        // Messages in other mailboxes are not found either.
        let archive = try #require(try await account.mailbox(named: "Archive")).id
        _ = try await account.deliver(sampleMessage(98), to: archive, received: 0, searchText: "lunch")

        for indexed in [false, true] {
            if indexed {
                try await account.finishIndexing()
                let pending = try await account.read("test") { db in
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM messageTextPending") ?? -1
                }
                #expect(pending == 0)
                // All-ASCII texts are marked (index matches of ASCII strings need no confirming):
                // the ASCII texts of the Inbox, and the Archive's one.
                let marked = try await account.read("test") { db in
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM messageTextASCII") ?? -1
                }
                #expect(marked == texts.filter { $0.1.utf8.allSatisfy { $0 < 0x80 } }.count + 1)
            }
            var checked = 0
            for needle in Self.needles {
                let found = try await account.search(in: box, substring: needle)
                #expect(found == Self.bruteForce(texts, needle), "needle \"\(needle)\", indexed \(indexed)")
                checked += 1
            }
            #expect(checked == Self.needles.count)
            #expect(try await account.search(in: box, substring: "lunch").count == 2)
        }
    }

    @Test func movedAndCopiedMessagesStaySearchable() async throws {
        let dir = try TemporaryDirectory()
        let account = try await makeAccount(dir)
        let box = try await inbox(account)
        let archive = try #require(try await account.mailbox(named: "Archive")).id
        let a = try await account.deliver(sampleMessage(1), to: box, received: 0, searchText: "needle in hay")
        try await account.copy(from: box, uids: [a.uid], to: archive)
        #expect(try await account.search(in: archive, substring: "needle") == [UID(1)])
        try await account.move(from: box, uids: [a.uid], to: archive)
        #expect(try await account.search(in: archive, substring: "NEEDLE") == [UID(1), UID(2)])
        #expect(try await account.search(in: box, substring: "needle").isEmpty)
    }

    @Test func textIndexedAtDeliveryIsFoundAndRemovedOnExpunge() async throws {
        let dir = try TemporaryDirectory()
        let account = try await makeAccount(dir)
        let box = try await inbox(account)
        let a = try await account.deliver(sampleMessage(1), to: box, received: 0, searchText: "Plain ASCII words", indexNow: true)
        let b = try await account.deliver(sampleMessage(2), to: box, received: 0, searchText: "Ünïcode wörds", indexNow: true)
        #expect(try await account.search(in: box, substring: "ascii") == [a.uid])
        #expect(try await account.search(in: box, substring: "WÖRDS") == [b.uid])
        #expect(try await account.search(in: box, substring: "words") == [a.uid])
        try await account.expunge(in: box, uids: [a.uid])
        #expect(try await account.search(in: box, substring: "ascii").isEmpty)
    }
}
