import Foundation
import GRDB

// One record type per table; internal, the public API speaks in Types.swift's values.

struct MessageRecord: Codable, FetchableRecord, MutablePersistableRecord, Sendable {
    static let databaseTableName = "message"

    var id: Int64?
    var baseID: Int64
    var queued: Int64
    var hold: Bool
    var senderAccount: String
    var senderLocalpart: String
    var senderDomain: String
    var fromID: String
    var recipientLocalpart: String
    var recipientDomain: String
    var attempts: Int
    var maxAttempts: Int
    var nextAttempt: Int64
    var lastAttempt: Int64?
    /// JSON array of QueueAttemptResult.
    var results: String
    var has8bit: Bool
    var smtputf8: Bool
    var isDMARCReport: Bool
    var isTLSReport: Bool
    var size: Int64
    var messageID: String
    var msgPrefix: Data
    var subject: String
    var transport: String
    /// -1 nil, 0 false, 1 true.
    var requireTLS: Int
    var futureReleaseRequest: String
    /// JSON object.
    var extra: String

    mutating func didInsert(_ inserted: InsertionSuccess) {
        self.id = inserted.rowID
    }

    init(_ m: QueuedMessage) {
        self.id = m.id == 0 ? nil : m.id
        self.baseID = m.baseID
        self.queued = m.queued
        self.hold = m.hold
        self.senderAccount = m.senderAccount
        self.senderLocalpart = m.senderLocalpart
        self.senderDomain = m.senderDomain
        self.fromID = m.fromID
        self.recipientLocalpart = m.recipientLocalpart
        self.recipientDomain = m.recipientDomain
        self.attempts = m.attempts
        self.maxAttempts = m.maxAttempts
        self.nextAttempt = m.nextAttempt
        self.lastAttempt = m.lastAttempt
        self.results = Self.json(m.results)
        self.has8bit = m.has8bit
        self.smtputf8 = m.smtputf8
        self.isDMARCReport = m.isDMARCReport
        self.isTLSReport = m.isTLSReport
        self.size = m.size
        self.messageID = m.messageID
        self.msgPrefix = Data(m.msgPrefix)
        self.subject = m.subject
        self.transport = m.transport
        self.requireTLS = m.requireTLS.map { $0 ? 1 : 0 } ?? -1
        self.futureReleaseRequest = m.futureReleaseRequest
        self.extra = Self.json(m.extra)
    }

    var value: QueuedMessage {
        QueuedMessage(
            id: self.id ?? 0, baseID: self.baseID, queued: self.queued, hold: self.hold,
            senderAccount: self.senderAccount, senderLocalpart: self.senderLocalpart, senderDomain: self.senderDomain,
            fromID: self.fromID, recipientLocalpart: self.recipientLocalpart, recipientDomain: self.recipientDomain,
            attempts: self.attempts, maxAttempts: self.maxAttempts, nextAttempt: self.nextAttempt,
            lastAttempt: self.lastAttempt,
            results: (try? JSONDecoder().decode([QueueAttemptResult].self, from: Data(self.results.utf8))) ?? [],
            has8bit: self.has8bit, smtputf8: self.smtputf8, isDMARCReport: self.isDMARCReport,
            isTLSReport: self.isTLSReport, size: self.size, messageID: self.messageID, msgPrefix: [UInt8](self.msgPrefix),
            subject: self.subject, transport: self.transport,
            requireTLS: self.requireTLS < 0 ? nil : self.requireTLS == 1,
            futureReleaseRequest: self.futureReleaseRequest,
            extra: (try? JSONDecoder().decode([String: String].self, from: Data(self.extra.utf8))) ?? [:]
        )
    }

    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? ""
    }
}

struct RetiredRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "retired"

    var id: Int64
    var lastActivity: Int64
    var recipientAddress: String
    var success: Bool
    var keepUntil: Int64
    var fromID: String
    var senderAccount: String
    /// The message's fields as JSON (its header prefix left out).
    var message: String

    init(_ r: RetiredMessage) {
        var m = r.message
        m.msgPrefix = []
        self.id = m.id
        self.lastActivity = r.lastActivity
        self.recipientAddress = m.recipient.lowercased()
        self.success = r.success
        self.keepUntil = r.keepUntil
        self.fromID = m.fromID
        self.senderAccount = m.senderAccount
        self.message = MessageRecord.json(m)
    }

    var value: RetiredMessage? {
        guard let m = try? JSONDecoder().decode(QueuedMessage.self, from: Data(self.message.utf8)) else { return nil }
        return RetiredMessage(message: m, lastActivity: self.lastActivity, success: self.success, keepUntil: self.keepUntil)
    }
}

struct HoldRuleRecord: Codable, FetchableRecord, MutablePersistableRecord, Sendable {
    static let databaseTableName = "holdrule"
    var id: Int64?
    var account: String
    var senderDomain: String
    var recipientDomain: String

    mutating func didInsert(_ inserted: InsertionSuccess) { self.id = inserted.rowID }

    var value: HoldRule {
        HoldRule(id: self.id ?? 0, account: self.account, senderDomain: self.senderDomain, recipientDomain: self.recipientDomain)
    }
}

struct SuppressionRecord: Codable, FetchableRecord, MutablePersistableRecord, Sendable {
    static let databaseTableName = "suppression"
    var id: Int64?
    var created: Int64
    var account: String
    var baseAddress: String
    var originalAddress: String
    var manual: Bool
    var reason: String

    mutating func didInsert(_ inserted: InsertionSuccess) { self.id = inserted.rowID }

    var value: Suppression {
        Suppression(
            id: self.id ?? 0, created: self.created, account: self.account, baseAddress: self.baseAddress,
            originalAddress: self.originalAddress, manual: self.manual, reason: self.reason
        )
    }
}

enum QueueSchema {
    /// Named migrations, only ever appended.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-queue") { db in
            try db.create(table: "message") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("baseID", .integer).notNull().indexed()
                t.column("queued", .integer).notNull()
                t.column("hold", .boolean).notNull()
                t.column("senderAccount", .text).notNull()
                t.column("senderLocalpart", .text).notNull()
                t.column("senderDomain", .text).notNull()
                t.column("fromID", .text).notNull()
                t.column("recipientLocalpart", .text).notNull()
                t.column("recipientDomain", .text).notNull()
                t.column("attempts", .integer).notNull()
                t.column("maxAttempts", .integer).notNull()
                t.column("nextAttempt", .integer).notNull().indexed()
                t.column("lastAttempt", .integer)
                t.column("results", .text).notNull()
                t.column("has8bit", .boolean).notNull()
                t.column("smtputf8", .boolean).notNull()
                t.column("isDMARCReport", .boolean).notNull()
                t.column("isTLSReport", .boolean).notNull()
                t.column("size", .integer).notNull()
                t.column("messageID", .text).notNull()
                t.column("msgPrefix", .blob).notNull()
                t.column("subject", .text).notNull()
                t.column("transport", .text).notNull()
                t.column("requireTLS", .integer).notNull()
                t.column("futureReleaseRequest", .text).notNull()
                t.column("extra", .text).notNull()
            }
            try db.create(table: "retired") { t in
                t.primaryKey("id", .integer)
                t.column("lastActivity", .integer).notNull().indexed()
                t.column("recipientAddress", .text).notNull().indexed()
                t.column("success", .boolean).notNull()
                t.column("keepUntil", .integer).notNull().indexed()
                t.column("fromID", .text).notNull().indexed()
                t.column("senderAccount", .text).notNull()
                t.column("message", .text).notNull()
            }
            try db.create(table: "holdrule") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("account", .text).notNull()
                t.column("senderDomain", .text).notNull()
                t.column("recipientDomain", .text).notNull()
            }
            try db.create(table: "suppression") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("created", .integer).notNull()
                t.column("account", .text).notNull()
                t.column("baseAddress", .text).notNull()
                t.column("originalAddress", .text).notNull()
                t.column("manual", .boolean).notNull()
                t.column("reason", .text).notNull()
                t.uniqueKey(["account", "baseAddress"])
            }
        }
        // What the runner asks on every wake-up stays cheap however long the queue is: the
        // next due messages in order, and a domain's due messages.
        migrator.registerMigration("v2-due-indexes") { db in
            try db.create(index: "message_hold_nextAttempt", on: "message", columns: ["hold", "nextAttempt"])
            try db.create(index: "message_recipientDomain_nextAttempt", on: "message", columns: ["recipientDomain", "nextAttempt"])
        }
        return migrator
    }
}
