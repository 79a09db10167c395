// METADATA (RFC 5464): entries on mailboxes and on the account (mailbox ""), kept by the store.

import IMAPProtocol
import MailStore

extension IMAPConnection {
    /// RFC 5464 3.2: entry names start with /private or /shared; no "*" or "%" (which LIST
    /// uses), no empty path components, no control characters.
    static func validMetadataName(_ name: String) -> Bool {
        let lower = name.lowercased()
        guard lower == "/private" || lower == "/shared" || lower.hasPrefix("/private/") || lower.hasPrefix("/shared/")
        else { return false }
        if name.hasSuffix("/") || name.contains("//") { return false }
        return !name.unicodeScalars.contains { $0 == "*" || $0 == "%" || $0.value < 0x20 || $0.value == 0x7f }
    }

    /// The mailbox of a metadata command: "" is the account.
    func metadataMailbox(_ name: String) async -> Result<(MailboxID?, String), Completion> {
        if name.isEmpty { return .success((nil, "")) }
        switch await self.lookupMailbox(name) {
        case .success(let m): return .success((m.id, MailboxNames.imap(m.name)))
        case .failure(let c): return .failure(c)
        }
    }

    /// RFC 5464 4.2: GETMETADATA with MAXSIZE and DEPTH.
    func getMetadata(mailbox: String, options: IMAPMetadataOptions, entries: [String]) async -> Completion {
        guard let account = self.account else { return .bad("not authenticated") }
        guard entries.allSatisfy(Self.validMetadataName) else { return .bad("invalid metadata entry name") }
        let (id, imapName): (MailboxID?, String)
        switch await self.metadataMailbox(mailbox) {
        case .success(let v): (id, imapName) = v
        case .failure(let c): return c
        }
        let depth: Int?
        switch options.depth {
        case nil, .zero: depth = 0
        case .one: depth = 1
        case .infinity: depth = nil
        }
        let found: [MetadataEntry]
        do {
            found = try await account.metadata(mailbox: id, names: entries, depth: depth)
        } catch {
            return self.storeFailure(error, "getmetadata")
        }
        var longest = 0
        var items: [(String, [UInt8]?)] = []
        for entry in found {
            if let max = options.maxSize, entry.value.count > Int(max) {
                longest = Swift.max(longest, entry.value.count)
                continue
            }
            items.append((entry.name, entry.value))
        }
        // A requested entry that does not exist is returned as NIL.
        for name in entries.map({ $0.lowercased() })
        where !found.contains(where: { $0.name == name || $0.name.hasPrefix(name + "/") }) {
            items.append((name, nil))
        }
        if !items.isEmpty {
            self.out.write("* METADATA ")
            if imapName.isEmpty { self.out.write("\"\"") } else { self.out.writeMailbox(imapName) }
            self.out.write(" (")
            for (i, item) in items.enumerated() {
                if i > 0 { self.out.write(" ") }
                self.out.writeAstring(item.0)
                self.out.write(" ")
                if let value = item.1 { self.out.writeString(value) } else { self.out.write("NIL") }
            }
            self.out.write(")")
            self.out.writeCRLF()
        }
        if longest > 0 {
            // RFC 5464 4.2.1: entries over MAXSIZE are left out and the largest size reported.
            return .ok("getmetadata completed", code: "METADATA LONGENTRIES \(longest)")
        }
        return .ok("getmetadata completed")
    }

    /// RFC 5464 4.3: SETMETADATA; a NIL value removes the entry.
    func setMetadata(mailbox: String, entries: [IMAPMetadataEntry]) async -> Completion {
        guard let account = self.account else { return .bad("not authenticated") }
        guard entries.allSatisfy({ Self.validMetadataName($0.name) }) else {
            return .bad("invalid metadata entry name")
        }
        if entries.contains(where: { ($0.value?.count ?? 0) > Account.maxMetadataValueSize }) {
            return .no("metadata value too large", code: "METADATA MAXSIZE \(Account.maxMetadataValueSize)")
        }
        let id: MailboxID?
        switch await self.metadataMailbox(mailbox) {
        case .success(let v): id = v.0
        case .failure(let c): return c
        }
        do {
            try await account.setMetadata(mailbox: id, entries.map { ($0.name, $0.value) })
            self.ownChanges.append { if case .metadataChanged(let m, _) = $0 { return m == id } else { return false } }
            return .ok("setmetadata completed")
        } catch {
            if error.kind == .quotaExceeded {
                return .no("too many metadata entries", code: "METADATA TOOMANY")
            }
            return self.storeFailure(error, "setmetadata")
        }
    }
}
