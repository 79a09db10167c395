// Removing an account's data (`mox config account rm`).
#if canImport(Glibc)
import Glibc
#endif

extension Account {
    /// Removes the data directory of account `name` under `dataDir`, but only while no process has the
    /// account open: its lock is taken exclusively without waiting, and an account in use is refused
    /// with `.notAllowed` before anything changes. `whileLocked` runs while the lock is held, before the
    /// removal (the caller edits the configuration there); when it throws, nothing is removed. The
    /// directory is first renamed away, so a crash half-way never leaves a partial account behind.
    /// A missing directory is not an error.
    public static func removeData(
        dataDir: String,
        name: String,
        whileLocked: () throws -> Void
    ) throws {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw StoreError(.invalidName, account: name, "invalid account name")
        }
        let layout = AccountLayout(dataDir: dataDir, name: name)
        guard FileIO.exists(layout.root) else {
            try whileLocked()
            return
        }
        let lock: AccountLock
        do {
            lock = try AccountLock(path: layout.lockPath)
        } catch {
            throw StoreError(.io, account: name, "locking: \(error)")
        }
        defer { lock.release() }
        guard lock.wasExclusive else {
            throw StoreError(
                .notAllowed,
                account: name,
                "account is in use by another process (the server or another command); try again when it is not"
            )
        }
        try whileLocked()
        let removed =
            dataDir + "/accounts/.removed-" + name + "-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        do {
            try FileIO.rename(layout.root, removed)
            try FileIO.syncDirectory(dataDir + "/accounts")
        } catch {
            throw StoreError(.io, account: name, "removing data directory: \(error)")
        }
        Self.removeTree(removed)
    }

    static func removeTree(_ path: String) {
        if unlink(path) == 0 { return }
        for name in FileIO.list(path) {
            Self.removeTree(path + "/" + name)
        }
        rmdir(path)
    }
}
