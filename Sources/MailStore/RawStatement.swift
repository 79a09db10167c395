import GRDB
import GRDBSQLite

/// A prepared statement driven through SQLite's C API, for the few loops that run once per
/// message of a whole mailbox (SELECT's snapshot, STORE 1:*): GRDB's row and argument types
/// cost more per row there than SQLite's own work. The statement stays GRDB's (cached,
/// finalized by it); this only binds, steps and reads columns, and resets it when done.
struct RawStatement {
    let handle: OpaquePointer
    let db: Database
    let sql: String

    init(_ statement: Statement, _ db: Database) {
        self.handle = statement.sqliteStatement
        self.db = db
        self.sql = statement.sql
        sqlite3_reset(self.handle)
        sqlite3_clear_bindings(self.handle)
    }

    func bind(_ index: Int32, _ value: Int64) {
        sqlite3_bind_int64(self.handle, index, value)
    }

    /// Binds text; SQLite copies it (SQLITE_TRANSIENT).
    func bind(_ index: Int32, _ value: String) {
        let count = Int32(value.utf8.count)
        _ = value.withCString { text in
            sqlite3_bind_text(self.handle, index, text, count, unsafeBitCast(-1, to: sqlite3_destructor_type.self))
        }
    }

    /// Starts the statement over for one UID range of a mailbox: ?1 is the mailbox, ?2 and ?3
    /// the range's first and last UID (the shape of the per-range queries over `message`).
    func start(mailbox: MailboxID, uids range: ClosedRange<UInt32>) {
        sqlite3_reset(self.handle)
        self.bind(1, mailbox.rawValue)
        self.bind(2, Int64(range.lowerBound))
        self.bind(3, Int64(range.upperBound))
    }

    /// Steps once: true for a row, false when the statement is done.
    func step() throws -> Bool {
        let code = sqlite3_step(self.handle)
        if code == SQLITE_ROW { return true }
        if code == SQLITE_DONE { return false }
        let message = self.db.sqliteConnection.map { String(cString: sqlite3_errmsg($0)) }
        throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: self.sql)
    }

    /// Runs a statement that returns no rows, then resets it for the next bindings.
    func run() throws {
        defer { sqlite3_reset(self.handle) }
        while try self.step() {}
    }

    func reset() {
        sqlite3_reset(self.handle)
    }

    /// The rows the last completed INSERT, UPDATE or DELETE of the connection changed.
    var changes: Int {
        self.db.sqliteConnection.map { Int(sqlite3_changes($0)) } ?? 0
    }

    func int64(_ column: Int32) -> Int64 {
        sqlite3_column_int64(self.handle, column)
    }

    func isNull(_ column: Int32) -> Bool {
        sqlite3_column_type(self.handle, column) == SQLITE_NULL
    }

    /// A blob column's bytes; empty for an empty or NULL value.
    func blob(_ column: Int32) -> [UInt8] {
        guard let bytes = sqlite3_column_blob(self.handle, column) else { return [] }
        let count = Int(sqlite3_column_bytes(self.handle, column))
        return [UInt8](UnsafeRawBufferPointer(start: bytes, count: count))
    }

    /// A text column; "" for an empty or NULL value without allocating.
    func text(_ column: Int32) -> String {
        // The pointer first, then its length (SQLite's documented order).
        guard let bytes = sqlite3_column_text(self.handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(self.handle, column))
        if count == 0 { return "" }
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }
}
