// NOTIFY (RFC 5465): the client says which events of which mailboxes it wants, and from then on
// gets them as they happen, also between commands. The selected mailbox's message events go
// through the session's view (`showChanges`), with the NOTIFY settings deciding which; events of
// other mailboxes become untagged STATUS, LIST and METADATA responses here.

import MailSASL
import IMAPProtocol
import MailStore

/// What the last NOTIFY SET asked for; NOTIFY NONE is an empty one.
struct NotifySettings {
    /// The groups for mailboxes other than the selected one, in the command's order.
    var groups: [IMAPNotifyEventGroup] = []
    /// The SELECTED or SELECTED-DELAYED group (RFC 5465 6.1).
    var selected: IMAPNotifyEventGroup?
    /// Names of subscribed mailboxes, for the "subscribed" filter, kept current from the
    /// account's subscription events (RFC 5465 6.4: re-evaluated whenever they change).
    var subscriptions: Set<String> = []
    /// Mailboxes mail is delivered to besides the Inbox subtree, for "inboxes" (RFC 5465 6.3).
    var deliveryMailboxes: Set<String> = []

    static let none = NotifySettings()

    /// SELECTED-DELAYED: expunges in the selected mailbox wait for a command that may show them.
    var delayed: Bool { self.selected?.source == .selectedDelayed }

    /// Whether the selected mailbox's events of this kind are wanted.
    func selectedWants(_ kind: NotifyEventKind) -> Bool {
        self.selected?.events.contains { NotifyEventKind($0) == kind } ?? false
    }

    /// The fetch attributes of the selected group's MessageNew (RFC 5465 5.2).
    var newMessageAttributes: [IMAPFetchAttribute] {
        for event in self.selected?.events ?? [] {
            if case .messageNew(let atts) = event { return atts }
        }
        return []
    }

    /// Whether an event of `kind` in the mailbox `name` (a store name; nil for the account's
    /// own, server metadata) is wanted by a group other than the selected one. Groups are tried
    /// in order: the first whose mailboxes include `name` and that lists the event decides; one
    /// with events NONE stops the search (RFC 5465 3.1, 6).
    func wants(_ kind: NotifyEventKind, mailbox name: String?) -> Bool {
        for group in self.groups {
            if let name {
                guard self.contains(group.source, name) else { continue }
            }
            if group.events.isEmpty { return false }
            if group.events.contains(where: { NotifyEventKind($0) == kind }) { return true }
        }
        return false
    }

    /// RFC 5465 6.2-6.6: the mailboxes a filter stands for.
    func contains(_ source: IMAPSearchSource, _ name: String) -> Bool {
        switch source {
        case .selected, .selectedDelayed:
            return false
        case .personal:
            return true
        case .inboxes:
            return name == "Inbox" || name.hasPrefix("Inbox/") || self.deliveryMailboxes.contains(name)
        case .subscribed:
            return self.subscriptions.contains(name)
        case .subtree(let roots):
            return roots.contains { root in
                let r = MailboxNames.store(root)
                return name == r || name.hasPrefix(r + "/")
            }
        case .subtreeOne(let roots):
            return roots.contains { root in
                let r = MailboxNames.store(root)
                return name == r || (name.hasPrefix(r + "/") && !name.dropFirst(r.count + 1).contains("/"))
            }
        case .mailboxes(let names):
            return names.contains { MailboxNames.store($0) == name }
        }
    }
}

/// RFC 5465 5: event kinds, without MessageNew's fetch attributes.
enum NotifyEventKind: Hashable {
    case messageNew, messageExpunge, flagChange, annotationChange
    case mailboxName, subscriptionChange, mailboxMetadataChange, serverMetadataChange
    case other

    init(_ event: IMAPNotifyEvent) {
        switch event {
        case .messageNew: self = .messageNew
        case .messageExpunge: self = .messageExpunge
        case .flagChange: self = .flagChange
        case .annotationChange: self = .annotationChange
        case .mailboxName: self = .mailboxName
        case .subscriptionChange: self = .subscriptionChange
        case .mailboxMetadataChange: self = .mailboxMetadataChange
        case .serverMetadataChange: self = .serverMetadataChange
        case .other: self = .other
        }
    }

    var isMessageEvent: Bool {
        switch self {
        case .messageNew, .messageExpunge, .flagChange, .annotationChange: return true
        default: return false
        }
    }
}

extension IMAPConnection {
    /// The events this server can notify, for BADEVENT (RFC 5465 3.1).
    static let notifyEvents =
        "MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange MailboxMetadataChange ServerMetadataChange"

    /// The most selected-mailbox events SELECTED-DELAYED holds before giving up with
    /// NOTIFICATIONOVERFLOW (RFC 5465 5.8).
    static let maxHeldChanges = 10_000

    /// RFC 5465 3.1: NOTIFY SET and NOTIFY NONE. Pending changes were shown before this ran
    /// (the implicit NOOP the RFC asks for).
    func notifyCommand(_ command: IMAPNotifyCommand?) async -> Completion {
        guard let account = self.account else { return .bad("not authenticated") }
        guard let command else {
            // RFC 5465 3.1: no events at all, not even the selected mailbox's.
            self.notify = NotifySettings.none
            self.heldChanges = []
            return .ok("notify completed, no events")
        }
        var settings = NotifySettings()
        for group in command.groups {
            let kinds = group.events.map(NotifyEventKind.init)
            // RFC 5465 3.1: an unsupported event is NO with BADEVENT, not BAD.
            if let bad = group.events.first(where: {
                [.other, .annotationChange].contains(NotifyEventKind($0))
            }) {
                let name: String
                if case .other(let n) = bad { name = n } else { name = "AnnotationChange" }
                return .no("unsupported event \(name)", code: "BADEVENT (\(Self.notifyEvents))")
            }
            switch group.source {
            case .selected, .selectedDelayed:
                // RFC 5465 5, 8: MessageNew and MessageExpunge together, FlagChange only with
                // them. Enforced where it matters, for the selected mailbox's sequence numbers;
                // for other mailboxes, which only get STATUS, a lone event is taken as asked
                // (as Dovecot does, whose imaptest asks for MessageExpunge alone).
                if kinds.contains(.messageNew) != kinds.contains(.messageExpunge) {
                    return .bad("MessageNew and MessageExpunge must be asked for together")
                }
                if kinds.contains(.flagChange) && !kinds.contains(.messageNew) {
                    return .bad("FlagChange needs MessageNew and MessageExpunge")
                }
                // RFC 5465 6.1: one such group, with message events only.
                if settings.selected != nil {
                    return .bad("only one SELECTED or SELECTED-DELAYED group is allowed")
                }
                if kinds.contains(where: { !$0.isMessageEvent }) {
                    return .bad("SELECTED and SELECTED-DELAYED take message events only")
                }
                settings.selected = group
            default:
                settings.groups.append(group)
            }
        }
        do {
            settings.subscriptions = Set(try await account.subscriptions())
        } catch {
            return self.storeFailure(error, "notify")
        }
        if let user = self.user {
            settings.deliveryMailboxes = self.backend.deliveryMailboxes(account: user.account)
        }
        if settings.newMessageAttributes.contains(.modSeq) {
            // RFC 7162 3.1: asking for MODSEQ enables CONDSTORE.
            await self.enableCondstore()
        }
        if command.status {
            // RFC 5465 3.1: STATUS now for the watched mailboxes other than the selected one.
            let mailboxes: [Mailbox]
            do {
                mailboxes = try await account.mailboxes()
            } catch {
                return self.storeFailure(error, "notify")
            }
            // What each event needs: MessageNew MESSAGES, UIDNEXT and UIDVALIDITY; MessageExpunge
            // MESSAGES; FlagChange UIDVALIDITY and HIGHESTMODSEQ (CONDSTORE is supported).
            let needs: [(NotifyEventKind, [IMAPStatusAttribute])] = [
                (.messageNew, [.messages, .uidNext, .uidValidity]), (.messageExpunge, [.messages]),
                (.flagChange, [.uidValidity, .highestModSeq]),
            ]
            let order: [IMAPStatusAttribute] = [.messages, .uidNext, .uidValidity, .unseen, .highestModSeq]
            for box in mailboxes.sorted(by: { $0.name < $1.name }) where box.id != self.selected?.id {
                var wanted = Set<IMAPStatusAttribute>()
                for (kind, attributes) in needs where settings.wants(kind, mailbox: box.name) {
                    wanted.formUnion(attributes)
                }
                if !wanted.isEmpty {
                    self.writeStatus(box, order.filter { wanted.contains($0) })
                }
            }
        }
        self.notify = settings
        return .ok("notify completed")
    }

    /// The attributes as given, with HIGHESTMODSEQ once CONDSTORE is on (RFC 5465 5.1-5.3).
    func notifyStatusAttributes(_ base: [IMAPStatusAttribute]) -> [IMAPStatusAttribute] {
        self.condstore ? base + [.highestModSeq] : base
    }

    /// Everything pending, as the state and the NOTIFY settings allow: first what concerns other
    /// mailboxes (NOTIFY only), then the selected mailbox's view, then, for NOTIFY's MessageNew,
    /// the new messages' FETCH responses.
    func pushChanges(allowExpunge: Bool, fetchNew: Bool = true) async {
        var fresh = self.changes.take()
        if !self.pendingForOthers.isEmpty {
            fresh = self.pendingForOthers + fresh
            self.pendingForOthers = []
        }
        if let settings = self.notify, !fresh.isEmpty {
            await self.notifyOtherMailboxes(fresh, settings)
        }
        let added = self.showChanges(fresh, allowExpunge: allowExpunge)
        if self.notify != nil, fetchNew, !added.isEmpty {
            await self.notifyNewMessages(added)
        }
        if self.notify != nil && self.heldChanges.count > Self.maxHeldChanges {
            // RFC 5465 5.8: say so, and carry on as after NOTIFY NONE.
            self.line("* OK [NOTIFICATIONOVERFLOW] too many changes held for the selected mailbox")
            self.notify = NotifySettings.none
            self.heldChanges = []
        }
    }

    /// Forgets queued changes: SELECT starts from a snapshot that holds them. With NOTIFY, the
    /// other mailboxes' events among them are still told.
    func dropPendingChanges() {
        let fresh = self.changes.take()
        self.heldChanges = []
        if self.notify != nil {
            self.pendingForOthers += fresh
        }
    }

    /// Between commands, NOTIFY's events go out as they come (RFC 5465 1, 3.1), except the
    /// selected mailbox's expunges under SELECTED-DELAYED (RFC 9051 7.5.1: none without a
    /// command in progress).
    func pushChangesBetweenCommands() async {
        guard let settings = self.notify, self.reader.bufferedCount == 0 else { return }
        await self.pushChanges(allowExpunge: !settings.delayed && settings.selected != nil)
    }

    /// RFC 5465 5.2: FETCH responses for messages that NOTIFY's MessageNew announced, with its
    /// fetch attributes; without any, UID and FLAGS (and MODSEQ with CONDSTORE), as mox sends.
    func notifyNewMessages(_ added: [NewMessage]) async {
        guard let settings = self.notify, settings.selectedWants(.messageNew), let sel = self.selected else { return }
        let attributes = settings.newMessageAttributes
        if attributes.isEmpty {
            for message in added {
                guard let i = sel.index(of: message.uid), i < sel.announced else { continue }
                var item = self.fetchStart(seq: i + 1, uid: message.uid) + "FLAGS ("
                item += self.flagNames(message.flags, message.keywords, recent: sel.isRecent(message.uid)) + ")"
                if self.condstore { item += " MODSEQ (\(message.modSeq))" }
                self.line(item + ")")
            }
            return
        }
        // Notifications never set \Seen: BODY[...] is fetched as BODY.PEEK[...].
        let peeked = attributes.map { a -> IMAPFetchAttribute in
            switch a {
            case .bodySection(let section, let partial, _): return .bodySection(section, partial: partial, peek: true)
            case .binary(let part, let partial, _): return .binary(part: part, partial: partial, peek: true)
            case .rfc822: return .bodySection(IMAPSection(), partial: nil, peek: true)
            case .rfc822Text: return .bodySection(IMAPSection(text: .text), partial: nil, peek: true)
            default: return a
            }
        }
        let set = IMAPSequenceSet(numbers: added.map(\.uid))
        let completion = await self.fetch(IMAPFetchCommand(uid: true, set: set, attributes: peeked))
        if completion.status != .ok {
            self.line("* NO [SERVERBUG] fetching new messages for NOTIFY: \(completion.text)")
        }
    }

    /// RFC 5465 5: untagged responses for changes to mailboxes other than the selected one.
    func notifyOtherMailboxes(_ events: [ChangeEvent], _ initial: NotifySettings) async {
        guard let account = self.account else { return }
        var settings = initial
        let selectedID = self.selected?.id
        var names: [MailboxID: String]?
        func name(_ id: MailboxID) async -> String? {
            if names == nil {
                let all = (try? await account.mailboxes()) ?? []
                names = Dictionary(all.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
            }
            return names?[id]
        }
        // STATUS goes out once per mailbox, after the rest, with the attributes its events need.
        var statusOrder: [MailboxID] = []
        var statusWanted: [MailboxID: Set<IMAPStatusAttribute>] = [:]
        func wantStatus(_ id: MailboxID, _ attributes: [IMAPStatusAttribute]) {
            if statusWanted[id] == nil { statusOrder.append(id) }
            statusWanted[id, default: []].formUnion(self.notifyStatusAttributes(attributes))
        }
        for event in events {
            // RFC 5465 5: not the changes this client made itself (their command said so).
            let own = self.ownChanges.contains { $0(event) }
            switch event {
            case .messageAdded(let id, _, _, _, _, _), .messagesRemoved(let id, _, _):
                if own { continue }
                // RFC 5465 5.2, 5.3: the selected mailbox's go through its view instead.
                guard id != selectedID, let box = await name(id) else { continue }
                let kind: NotifyEventKind
                if case .messageAdded = event { kind = .messageNew } else { kind = .messageExpunge }
                if settings.wants(kind, mailbox: box) {
                    wantStatus(id, [.messages, .uidNext, .unseen])
                }
            case .flagsChanged(let id, _, _, _, _):
                if own { continue }
                // RFC 5465 5.1: UIDVALIDITY and HIGHESTMODSEQ (with CONDSTORE), and UNSEEN.
                guard id != selectedID, let box = await name(id) else { continue }
                if settings.wants(.flagChange, mailbox: box) {
                    wantStatus(id, [.uidValidity, .unseen])
                }
            case .mailboxAdded(let box):
                names?[box.id] = box.name
                // RFC 5465 5.4: a LIST response for the new mailbox.
                if !own, settings.wants(.mailboxName, mailbox: box.name) {
                    var attributes = ["\\HasNoChildren"]
                    if settings.subscriptions.contains(box.name) { attributes.append("\\Subscribed") }
                    attributes += Self.specialUseAttributes(box.specialUse)
                    self.writeNotifyList(attributes, box.name)
                }
            case .mailboxRemoved(let id, let name):
                names?[id] = nil
                // RFC 5465 5.4: \NonExistent for a deleted mailbox.
                if !own, settings.wants(.mailboxName, mailbox: name) {
                    var attributes = ["\\NonExistent"]
                    if settings.subscriptions.contains(name) { attributes.append("\\Subscribed") }
                    self.writeNotifyList(attributes, name)
                }
            case .mailboxRenamed(let id, let oldName, let newName):
                names?[id] = newName
                // RFC 5465 5.4, RFC 9051 7.3.1: the new name, with OLDNAME.
                if !own, settings.wants(.mailboxName, mailbox: newName) || settings.wants(.mailboxName, mailbox: oldName) {
                    var attributes: [String] = []
                    if settings.subscriptions.contains(newName) { attributes.append("\\Subscribed") }
                    self.writeNotifyList(attributes, newName, oldName: oldName)
                }
            case .subscriptionChanged(let name, let subscribed):
                if subscribed {
                    settings.subscriptions.insert(name)
                } else {
                    settings.subscriptions.remove(name)
                }
                // RFC 5465 5.5: a LIST with \Subscribed exactly when it is subscribed now.
                if !own, settings.wants(.subscriptionChange, mailbox: name) {
                    var attributes = subscribed ? ["\\Subscribed"] : []
                    let exists = (try? await account.mailbox(named: name)) != nil
                    if !exists { attributes.append("\\NonExistent") }
                    self.writeNotifyList(attributes, name)
                }
            case .metadataChanged(let id, let entries):
                if own { continue }
                // RFC 5465 5.6, 5.7; RFC 5464 4.4.2: the names of the changed entries.
                let target: String
                if let id {
                    guard let box = await name(id), settings.wants(.mailboxMetadataChange, mailbox: box) else { continue }
                    target = MailboxNames.imap(box)
                } else {
                    guard settings.wants(.serverMetadataChange, mailbox: nil) else { continue }
                    target = ""
                }
                self.out.write("* METADATA ")
                self.out.writeMailbox(target)
                for entry in entries {
                    self.out.write(" ")
                    self.out.writeAstring(entry)
                }
                self.out.writeCRLF()
            case .mailboxCounts:
                continue
            }
        }
        self.notify?.subscriptions = settings.subscriptions
        guard !statusOrder.isEmpty, let boxes = try? await account.mailboxes() else { return }
        let byID = Dictionary(boxes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let order: [IMAPStatusAttribute] = [.messages, .uidNext, .uidValidity, .unseen, .highestModSeq]
        for id in statusOrder {
            guard let box = byID[id], let wanted = statusWanted[id] else { continue }
            self.writeStatus(box, order.filter { wanted.contains($0) })
        }
    }

    func writeNotifyList(_ attributes: [String], _ name: String, oldName: String? = nil) {
        self.out.write("* LIST (" + attributes.joined(separator: " ") + ") \"/\" ")
        self.out.writeMailbox(MailboxNames.imap(name))
        if let oldName {
            self.out.write(" (\"OLDNAME\" (")
            self.out.writeMailbox(MailboxNames.imap(oldName))
            self.out.write("))")
        }
        self.out.writeCRLF()
    }
}

/// A message that `showChanges` added to the view, for NOTIFY's FETCH.
struct NewMessage {
    var uid: UInt32
    var flags: MessageFlags
    var keywords: [String]
    var modSeq: Int64
}
