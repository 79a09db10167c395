import Foundation
import GRDB

extension Account {
    /// The UIDs of a mailbox's messages whose indexed text contains `substring`, ignoring case.
    ///
    /// IMAP SEARCH TEXT/BODY/SUBJECT match a substring without regard to case (RFC 9051 6.4.4), so
    /// the answer must be what a scan of every message would give. For 3 or more characters the
    /// FTS5 trigram index finds the candidates and each is confirmed against the stored text; shorter
    /// strings have no trigram and are answered by scanning the stored text. Messages whose text is
    /// not indexed yet are scanned. Case is folded with
    /// Unicode lower-casing, and text is compared scalar by scalar (no normalization).
    /// - SeeAlso: RFC 9051 6.4.4
    public func search(in mailbox: MailboxID, substring: String) async throws(StoreError) -> [UID] {
        let needle = Self.foldedScalars(substring)
        let useIndex = needle.count >= 3
        let asciiNeedle = substring.utf8.allSatisfy { $0 < 0x80 } ? Array(substring.lowercased().utf8) : nil
        return try await self.read("searching") { db in
            let rows: RowCursor
            if useIndex {
                // CROSS JOIN keeps the index lookup as the outer loop: otherwise SQLite may walk the
                // mailbox's messages and evaluate MATCH once per message (seconds on 100,000).
                let query = "\"" + substring.replacing("\"", with: "\"\"") + "\""
                // An ASCII string found in an all-ASCII text is a certain match: SQLite's case
                // folding equals ours there, and the trigram phrase query is a substring test.
                // Only other texts are fetched and confirmed (NULL marks the certain ones).
                let text = asciiNeedle == nil ? "t.text" : "CASE WHEN a.rowid IS NULL THEN t.text END"
                rows = try Row.fetchCursor(
                    db,
                    sql: """
                        SELECT m.uid, \(text) AS text FROM messageText t CROSS JOIN message m ON m.id = t.rowid
                        LEFT JOIN messageTextASCII a ON a.rowid = t.rowid
                        WHERE messageText MATCH ? AND m.mailboxID = ? AND m.expunged = 0
                        """,
                    arguments: [query, mailbox.rawValue]
                )
            } else {
                rows = try Row.fetchCursor(
                    db,
                    sql: """
                        SELECT m.uid, t.text FROM message m JOIN messageText t ON t.rowid = m.id
                        WHERE m.mailboxID = ? AND m.expunged = 0
                        """,
                    arguments: [mailbox.rawValue]
                )
            }
            var uids: [UID] = []
            while let row = try rows.next() {
                let uid = UID(UInt32(truncatingIfNeeded: row[0] as Int64))
                // NULL text: a certain match (see above).
                guard let text: String = row[1] else {
                    uids.append(uid)
                    continue
                }
                if Self.matches(text, needle, asciiNeedle) {
                    uids.append(uid)
                }
            }
            // Text not indexed yet (see ``indexPendingText``) is scanned, straight from SQLite's
            // buffers: after a burst of deliveries this can be many megabytes.
            let pending = try Row.fetchCursor(
                db,
                sql: """
                    SELECT m.uid, t.text FROM messageTextPending t CROSS JOIN message m ON m.id = t.rowid
                    WHERE m.mailboxID = ? AND m.expunged = 0
                    """,
                arguments: [mailbox.rawValue]
            )
            while let row = try pending.next() {
                let uid = UID(UInt32(truncatingIfNeeded: row[0] as Int64))
                let quick: Bool? = try row.withUnsafeData(atIndex: 1) { data -> Bool? in
                    guard let data, let asciiNeedle else { return nil }
                    return data.withUnsafeBytes { raw -> Bool? in
                        let bytes = raw.bindMemory(to: UInt8.self)
                        // An ASCII match is a match whatever else the text holds; without one, only
                        // all-ASCII text is certainly without a match.
                        if Self.asciiContains(bytes, asciiNeedle) { return true }
                        return bytes.contains { $0 >= 0x80 } ? nil : false
                    }
                }
                if let quick {
                    if quick { uids.append(uid) }
                    continue
                }
                if let text: String = row[1], Self.matches(text, needle, asciiNeedle) {
                    uids.append(uid)
                }
            }
            return uids.sorted()
        }
    }

    /// Whether `text` contains the needle, ignoring case. Text that is all ASCII (most mail) is
    /// compared byte by byte with ASCII case folding, which gives the same answer as Unicode
    /// lower-casing there; other text takes the Unicode path (where, e.g., the Kelvin sign folds
    /// to an ASCII "k").
    static func matches(_ text: String, _ needle: [Unicode.Scalar], _ asciiNeedle: [UInt8]?) -> Bool {
        if let asciiNeedle {
            var text = text
            let result: Bool? = text.withUTF8 { bytes in
                for b in bytes where b >= 0x80 {
                    return nil
                }
                return Self.asciiContains(bytes, asciiNeedle)
            }
            if let result {
                return result
            }
        }
        return Self.contains(Self.foldedScalars(text), needle)
    }

    /// Case-insensitive substring test over ASCII bytes; `needle` is lower-case.
    static func asciiContains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        if needle.isEmpty { return true }
        if needle.count > haystack.count { return false }
        @inline(__always) func lower(_ b: UInt8) -> UInt8 { b >= 65 && b <= 90 ? b | 0x20 : b }
        let first = needle[0]
        let last = haystack.count - needle.count
        var i = 0
        while i <= last {
            if lower(haystack[i]) == first {
                var j = 1
                while j < needle.count && lower(haystack[i + j]) == needle[j] {
                    j += 1
                }
                if j == needle.count { return true }
            }
            i += 1
        }
        return false
    }

    static func foldedScalars(_ text: String) -> [Unicode.Scalar] {
        Array(text.lowercased().unicodeScalars)
    }

    static func contains(_ haystack: [Unicode.Scalar], _ needle: [Unicode.Scalar]) -> Bool {
        if needle.isEmpty { return true }
        if needle.count > haystack.count { return false }
        let first = needle[0]
        var i = 0
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first && haystack[i..<(i + needle.count)].elementsEqual(needle) {
                return true
            }
            i += 1
        }
        return false
    }
}
