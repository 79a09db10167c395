import GRDB

extension Account {
    // MARK: - Names

    /// Checks a mailbox name and gives it its canonical form: `Inbox` in any case is `Inbox`.
    /// - SeeAlso: RFC 9051 5.1
    static func canonicalName(_ name: String, account: String) throws(StoreError) -> String {
        let bad =
            name.isEmpty || name.hasPrefix("/") || name.hasSuffix("/") || name.contains("//")
            || name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f })
        if bad {
            throw StoreError(.invalidName, account: account, "invalid mailbox name \"\(name)\"")
        }
        if name.lowercased() == "inbox" {
            return "Inbox"
        }
        if name.lowercased().hasPrefix("inbox/") {
            return "Inbox" + name.dropFirst(5)
        }
        return name
    }

    static func insertMailbox(_ db: Database, name: String, specialUse: SpecialUse) throws -> MailboxRecord {
        let modSeq = try Self.nextModSeq(db)
        try db.execute(sql: "UPDATE syncState SET lastUIDValidity = lastUIDValidity + 1 WHERE id = 1")
        let uidValidity = try Int64.fetchOne(db, sql: "SELECT lastUIDValidity FROM syncState WHERE id = 1") ?? 1
        var record = MailboxRecord(
            id: nil,
            name: name,
            specialUse: specialUse.rawValue,
            uidValidity: uidValidity,
            uidNext: 1,
            total: 0,
            deleted: 0,
            unread: 0,
            unseen: 0,
            size: 0,
            createSeq: modSeq,
            modSeq: modSeq
        )
        try record.insert(db)
        return record
    }

    /// The mailboxes below `name` in the hierarchy. (SQL LIKE would fold ASCII case and treat `_`
    /// as a wildcard, so the prefix is compared here.)
    static func children(_ db: Database, of name: String) throws -> [MailboxRecord] {
        try MailboxRecord.fetchAll(db).filter { $0.name.hasPrefix(name + "/") }
    }

    static func mailboxRecord(_ db: Database, _ id: MailboxID, account: String) throws -> MailboxRecord {
        guard let record = try MailboxRecord.fetchOne(db, key: id.rawValue) else {
            throw StoreError(.notFound, account: account, "no \(id)")
        }
        return record
    }

    // MARK: - Mailbox API

    /// Creates a mailbox; parents that do not exist yet are created too, as in IMAP CREATE.
    /// - SeeAlso: RFC 9051 6.3.4
    @discardableResult
    public func createMailbox(
        _ name: String,
        specialUse: SpecialUse = [],
        subscribe: Bool = true
    )
        async throws(StoreError) -> Mailbox
    {
        let name = try Self.canonicalName(name, account: self.name)
        let account = self.name
        return try await self.write("creating mailbox \(name)") { db, events in
            if try MailboxRecord.filter(Column("name") == name).fetchCount(db) > 0 {
                throw StoreError(.alreadyExists, account: account, "mailbox \"\(name)\" exists")
            }
            let parts = name.split(separator: "/")
            var created: MailboxRecord?
            for i in 1...parts.count {
                let partial = parts[0..<i].joined(separator: "/")
                if try MailboxRecord.filter(Column("name") == partial).fetchCount(db) > 0 { continue }
                let record = try Self.insertMailbox(db, name: partial, specialUse: i == parts.count ? specialUse : [])
                events.append(.mailboxAdded(record.value))
                created = record
            }
            if subscribe, try SubscriptionRecord.fetchOne(db, key: name) == nil {
                try SubscriptionRecord(name: name).insert(db)
                events.append(.subscriptionChanged(name: name, subscribed: true))
            }
            guard let created else {
                throw StoreError(.alreadyExists, account: account, "mailbox \"\(name)\" exists")
            }
            return created.value
        }
    }

    /// All mailboxes, ordered by name.
    public func mailboxes() async throws(StoreError) -> [Mailbox] {
        try await self.read("listing mailboxes") { db in
            try MailboxRecord.order(Column("name")).fetchAll(db).map(\.value)
        }
    }

    public func mailbox(named name: String) async throws(StoreError) -> Mailbox? {
        let name = try Self.canonicalName(name, account: self.name)
        return try await self.read("looking up mailbox") { db in
            try MailboxRecord.filter(Column("name") == name).fetchOne(db)?.value
        }
    }

    public func mailbox(_ id: MailboxID) async throws(StoreError) -> Mailbox {
        let account = self.name
        return try await self.read("looking up mailbox") { db in
            try Self.mailboxRecord(db, id, account: account).value
        }
    }

    /// Renames a mailbox and every mailbox below it. Messages, UIDs and UIDVALIDITY stay.
    /// - SeeAlso: RFC 9051 6.3.6
    public func renameMailbox(_ id: MailboxID, to newName: String) async throws(StoreError) {
        let newName = try Self.canonicalName(newName, account: self.name)
        let account = self.name
        try await self.write("renaming mailbox") { db, events in
            var record = try Self.mailboxRecord(db, id, account: account)
            let oldName = record.name
            if oldName == "Inbox" {
                throw StoreError(.notAllowed, account: account, "Inbox cannot be renamed")
            }
            if newName == oldName || newName.hasPrefix(oldName + "/") {
                throw StoreError(.invalidName, account: account, "cannot rename \"\(oldName)\" to \"\(newName)\"")
            }
            if try MailboxRecord.filter(Column("name") == newName).fetchCount(db) > 0 {
                throw StoreError(.alreadyExists, account: account, "mailbox \"\(newName)\" exists")
            }
            let modSeq = try Self.nextModSeq(db)
            for var child in try Self.children(db, of: oldName) {
                let childNew = newName + child.name.dropFirst(oldName.count)
                events.append(.mailboxRenamed(MailboxID(child.id ?? 0), oldName: child.name, newName: childNew))
                child.name = childNew
                child.modSeq = modSeq
                try child.update(db)
            }
            record.name = newName
            record.modSeq = modSeq
            try record.update(db)
            events.append(.mailboxRenamed(id, oldName: oldName, newName: newName))
            // Create missing parents of the new name, as CREATE would.
            let parts = newName.split(separator: "/")
            for i in 1..<max(parts.count, 1) {
                let partial = parts[0..<i].joined(separator: "/")
                if try MailboxRecord.filter(Column("name") == partial).fetchCount(db) == 0 {
                    events.append(.mailboxAdded(try Self.insertMailbox(db, name: partial, specialUse: []).value))
                }
            }
        }
    }

    /// Deletes a mailbox without child mailboxes, with all its messages and their files.
    /// - SeeAlso: RFC 9051 6.3.5
    public func deleteMailbox(_ id: MailboxID) async throws(StoreError) {
        let account = self.name
        let removedIDs: [Int64] = try await self.write("deleting mailbox") { db, events in
            let record = try Self.mailboxRecord(db, id, account: account)
            if record.name == "Inbox" {
                throw StoreError(.notAllowed, account: account, "Inbox cannot be deleted")
            }
            if try !Self.children(db, of: record.name).isEmpty {
                throw StoreError(.notAllowed, account: account, "mailbox \"\(record.name)\" has children")
            }
            _ = try Self.nextModSeq(db)
            let ids = try Int64.fetchAll(
                db,
                sql: "SELECT id FROM message WHERE mailboxID = ? AND expunged = 0",
                arguments: [id.rawValue]
            )
            for table in ["messageText", "messageTextPending", "messageTextASCII", "messageStructure"] {
                try db.execute(
                    sql: "DELETE FROM \(table) WHERE rowid IN (SELECT id FROM message WHERE mailboxID = ?)",
                    arguments: [id.rawValue]
                )
            }
            try db.execute(sql: "DELETE FROM message WHERE mailboxID = ?", arguments: [id.rawValue])
            try db.execute(sql: "DELETE FROM metadata WHERE mailboxID = ?", arguments: [id.rawValue])
            _ = try MailboxRecord.deleteOne(db, key: id.rawValue)
            events.append(.mailboxRemoved(id, name: record.name))
            return ids
        }
        // After the commit: a crash before this point leaves orphans that the next open removes.
        for messageID in removedIDs {
            FileIO.remove(self.layout.messagePath(MessageID(messageID)))
        }
    }

    /// Recomputes every mailbox's counts from its messages and stores them; returns the mailboxes
    /// whose stored counts were wrong, with the counts they had. (For `mox recalculatemailboxcounts`.)
    @discardableResult
    public func recalculateMailboxCounts() async throws(StoreError) -> [(Mailbox, was: MailboxCounts)] {
        try await self.write("recalculating counts") { db, events in
            var fixed: [(Mailbox, was: MailboxCounts)] = []
            for var mailbox in try MailboxRecord.fetchAll(db) {
                var counts = MailboxCounts()
                let rows = try Row.fetchAll(
                    db,
                    sql: "SELECT flags, size FROM message WHERE mailboxID = ? AND expunged = 0",
                    arguments: [mailbox.id]
                )
                for row in rows {
                    counts.add(.of(flags: MessageFlags(rawValue: row["flags"]), size: row["size"]))
                }
                if counts != mailbox.counts {
                    let was = mailbox.counts
                    mailbox.counts = counts
                    try mailbox.update(db)
                    events.append(.mailboxCounts(MailboxID(mailbox.id ?? 0), counts))
                    fixed.append((mailbox.value, was: was))
                }
            }
            return fixed
        }
    }

    // MARK: - Subscriptions

    public func setSubscribed(_ name: String, _ subscribed: Bool) async throws(StoreError) {
        let name = try Self.canonicalName(name, account: self.name)
        try await self.write("changing subscription") { db, events in
            if subscribed {
                if try SubscriptionRecord.fetchOne(db, key: name) == nil {
                    try SubscriptionRecord(name: name).insert(db)
                    events.append(.subscriptionChanged(name: name, subscribed: true))
                }
            } else if try SubscriptionRecord.deleteOne(db, key: name) {
                events.append(.subscriptionChanged(name: name, subscribed: false))
            }
        }
    }

    public func subscriptions() async throws(StoreError) -> [String] {
        try await self.read("listing subscriptions") { db in
            try SubscriptionRecord.order(Column("name")).fetchAll(db).map(\.name)
        }
    }
}
