// QUOTA (RFC 9208) with the STORAGE resource, and REPLACE (RFC 8508).

import MailSASL
import IMAPProtocol
import MailStore

extension IMAPConnection {
    // MARK: - QUOTA

    /// The account's one quota root, "": the storage used by all its messages, and its limit.
    func quotaUsage() async -> (usedKB: Int64, limitKB: Int64)? {
        guard let user = self.user, let account = self.account, let limit = self.backend.quota(account: user.account)
        else { return nil }
        let used = ((try? await account.mailboxes()) ?? []).reduce(Int64(0)) { $0 + $1.counts.size }
        // RFC 9208 5.1: STORAGE is in units of 1024 octets.
        return ((used + 1023) / 1024, limit / 1024)
    }

    /// RFC 9208 4.2: GETQUOTA.
    func getQuota(root: String) async -> Completion {
        guard root.isEmpty, let usage = await self.quotaUsage() else {
            return .no("no such quota root", code: "NONEXISTENT")
        }
        self.line("* QUOTA \"\" (STORAGE \(usage.usedKB) \(usage.limitKB))")
        return .ok("getquota completed")
    }

    /// RFC 9208 4.3: GETQUOTAROOT; an account without a limit has no quota root.
    func getQuotaRoot(mailbox name: String) async -> Completion {
        let mailbox: Mailbox
        switch await self.lookupMailbox(name) {
        case .success(let m): mailbox = m
        case .failure(let c): return c
        }
        let usage = await self.quotaUsage()
        self.out.write("* QUOTAROOT ")
        self.out.writeMailbox(MailboxNames.imap(mailbox.name))
        if usage != nil { self.out.write(" \"\"") }
        self.out.writeCRLF()
        if let usage {
            self.line("* QUOTA \"\" (STORAGE \(usage.usedKB) \(usage.limitKB))")
        }
        return .ok("getquotaroot completed")
    }

    // MARK: - REPLACE

    /// RFC 8508 3: appends the new message (APPENDUID in an untagged OK), then expunges the
    /// replaced one from the selected mailbox; all or nothing.
    func replace(uid: Bool, number: UInt32, mailbox name: String, message: IMAPAppendMessage) async -> Completion {
        guard let sel = self.selected, let account = self.account, let user = self.user else {
            return .bad("no mailbox selected")
        }
        if sel.readOnly { return .no("mailbox is read-only", code: "READ-ONLY") }
        let index: Int?
        if uid {
            index = sel.index(of: number).flatMap { $0 < sel.announced ? $0 : nil }
        } else {
            index = number >= 1 && Int(number) <= min(sel.announced, sel.uids.count) ? Int(number) - 1 : nil
        }
        guard let index else { return .no("no such message", code: uid ? "NONEXISTENT" : nil) }
        let oldUID = sel.uids[index]
        let target: Mailbox
        switch await self.lookupMailbox(name) {
        case .success(let m): target = m
        case .failure(let c): return c.code == "NONEXISTENT" ? .no("no such mailbox", code: "TRYCREATE") : c
        }
        guard let (flags, keywords) = Self.parseFlags(message.flags) else { return .bad("invalid flag") }
        let source: MessageSource
        switch self.appendSource(message) {
        case .success(let s): source = s
        case .failure(let refusal): return refusal
        }
        do {
            let delivered = try await self.store(
                source,
                in: account,
                mailbox: target.id,
                flags: flags,
                keywords: keywords,
                received: message.internalDate.map(Self.unixTime) ?? Int64(WallClock.seconds()),
                quota: self.backend.quota(account: user.account)
            )
            self.line("* OK [APPENDUID \(target.uidValidity) \(delivered.uid.rawValue)] replacement appended")
            let removed = try await account.expunge(in: sel.id, uids: [UID(oldUID)])
            self.removeExpunged(removed.map(\.rawValue))
            return .ok("replace completed")
        } catch {
            return self.storeFailure(error, "replace")
        }
    }
}
