// Submitted mail for other domains (and in localserve all submitted mail) goes into the
// outgoing queue: the spooled file is linked into it with the header lines the submission
// added (Received, Message-Id/Date, DKIM-Signature, Authentication-Results) as its prefix.

import Logging
import MailAddress
import MailConfig
import MailMessage
import MailQueue
import MailSpool
import SMTPProtocol
import Synchronization

/// The outgoing queue as delivery sees it: the queue, and a way to wake its runner.
public final class OutgoingQueue: Sendable {
    public let queue: MailQueue
    /// The closure sits in a struct: a closure stored directly as a Mutex's generic value is
    /// re-wrapped in a reabstraction thunk on every inout access (`withLock { $0 }` writes it
    /// back wrapped), so each kick made the next one a frame deeper; after 10,000 submissions a
    /// kick walked 20,000 thunks and the chain held about 1 MB per 1,000 messages.
    private struct Kicker: Sendable {
        let kick: @Sendable () -> Void
    }

    private let kicker = Mutex<Kicker?>(nil)

    public init(queue: MailQueue) {
        self.queue = queue
    }

    /// The runner sets what wakes it.
    public func onKick(_ kick: @escaping @Sendable () -> Void) {
        self.kicker.withLock { $0 = Kicker(kick: kick) }
    }

    /// New work for the runner.
    public func kick() {
        self.kicker.withLock { $0 }?.kick()
    }
}

extension Deliverer {
    /// Queues the message for `recipients`; nil when it is durably queued (the submission's
    /// 250), else the reply for all of them.
    func enqueue(
        _ message: SpooledMessage, origin: DeliveryOrigin, recipients: [ForwardPath], added: String, received: String,
        now: Int64, log: Logger
    ) async -> SMTPReply? {
        guard let outgoing = self.outgoing else {
            return SMTPReply(451, EnhancedCode(class: 4, subject: 3, detail: 0), "no outgoing queue")
        }
        let header = message.scanned.header
        let extra: [String: String]
        switch Self.moxExtra(header) {
        case .extra(let values): extra = values
        case .refused(let reply): return reply
        }
        let sender = origin.mailFrom.mailbox?.address
        var queueRecipients = recipients.map { path in
            guard let mailbox = path.mailbox else {
                return NewQueueRecipient(localpart: "postmaster", domain: self.config.staticConfig.hostname)
            }
            // An address literal stays "[ip]": direct delivery connects to it.
            return NewQueueRecipient(
                localpart: mailbox.localpart.formatted, domain: mailbox.address?.domain.ascii ?? mailbox.host.formatted
            )
        }
        var chosenFromID = false
        if let sender, let fromID = self.fromIDSender(sender, origin: origin) {
            switch fromID {
            case .chosen(let base, let separator, let id):
                guard queueRecipients.count == 1 else {
                    return SMTPReply(554, EnhancedCode(class: 5, subject: 5, detail: 3), "cannot send to multiple recipients with chosen fromid")
                }
                queueRecipients[0].fromID = id
                queueRecipients[0].senderLocalpart = base + separator + id
                chosenFromID = true
            case .generate(let base, let separator):
                for i in queueRecipients.indices {
                    let id = Self.randomFromID()
                    queueRecipients[i].fromID = id
                    queueRecipients[i].senderLocalpart = base + separator + id
                }
            }
        }
        // The X-Mox-Extra-* fields are data for the queue, not for the recipient: the message
        // is queued without them (a copy, only for messages that have them).
        var queued = message
        if !extra.isEmpty {
            do {
                queued = try self.withoutMoxExtra(message)
            } catch {
                log.error("removing x-mox-extra header fields", metadata: ["error": "\(error)"])
                return SMTPReply(451, EnhancedCode(class: 4, subject: 3, detail: 0), "error queueing message, try again later")
            }
        }
        var new = NewQueueMessage(
            senderAccount: origin.account ?? self.localserveAccount,
            senderLocalpart: sender?.localpart.formatted ?? "",
            senderDomain: sender?.domain.ascii ?? "",
            recipients: queueRecipients,
            prefix: Array((received + added).utf8),
            source: queued.path.map { .file(path: $0) } ?? .bytes((try? queued.readAll()) ?? []),
            sourceSize: Int64(queued.size)
        )
        new.has8bit = message.scanned.has8bit
        new.smtputf8 = origin.smtputf8
        new.messageID = header.first("Message-ID").map(trimmedWhitespace) ?? ""
        new.subject = header.decoded("Subject").map(trimmedWhitespace) ?? ""
        new.extra = extra
        if origin.requireTLS {
            new.requireTLS = true
        } else if let value = header.first("TLS-Required"), trimmedWhitespace(value).lowercased() == "no" {
            // RFC 8689 5: the sender asks to deliver even without a verified TLS connection.
            new.requireTLS = false
        }
        do {
            let queued = try await outgoing.queue.addGrouped(new, now: now)
            for m in queued {
                log.info(
                    "queued message",
                    metadata: ["msgid": "\(m.id)", "recipient": "\(m.recipient)", "size": "\(m.size)", "hold": "\(m.hold)"]
                )
            }
            outgoing.kick()
            return nil
        } catch let error as QueueError where error.kind == .invalid && chosenFromID {
            return SMTPReply(554, EnhancedCode(class: 5, subject: 1, detail: 7), "bad fromid in smtp mail from address: \(error)")
        } catch {
            log.error("adding message to queue", metadata: ["error": "\(error)"])
            return SMTPReply(451, EnhancedCode(class: 4, subject: 3, detail: 0), "error queueing message, try again later")
        }
    }

    /// An incoming message to a fromid address (the sender address of a message we sent, with
    /// the domain's first catchall separator and an id after it): when it is a DSN reporting a
    /// permanent failure for the retired message with that id, its recipient goes on the
    /// sending account's suppression list as mox does ("delivery failure from DSN"). The
    /// message is delivered as usual either way; returns what matched, for the log.
    func matchFromID(_ message: SpooledMessage, recipients: [AcceptedRecipient], now: Int64, log: Logger) {
        guard let outgoing = self.outgoing else { return }
        let config = self.config
        for recipient in recipients {
            guard let address = recipient.path.mailbox?.address,
                let domain = config.dynamicConfig.domains[address.domain.ascii] ?? config.dynamicConfig.domains[address.domain.unicode]
            else { continue }
            guard let separator = domain.catchallSeparators.first,
                let (_, fromID) = Self.splitFromID(address.localpart.value, separator: separator),
                let retired = try? outgoing.queue.retired(fromID: fromID)
            else { continue }
            // A DSN is small; a big message to the address is not one worth parsing.
            guard message.size <= 1 << 20, let bytes = try? message.readAll(),
                let dsn = DSN.parse(Message(parsing: bytes)), dsn.recipients.count == 1
            else {
                log.info("incoming message for fromid is not a dsn", metadata: ["fromid": "\(fromID)", "msgid": "\(retired.message.id)"])
                continue
            }
            let r = dsn.recipients[0]
            log.info(
                "incoming dsn matched to retired message",
                metadata: ["fromid": "\(fromID)", "msgid": "\(retired.message.id)", "action": "\(r.action.name)", "status": "\(r.status)"]
            )
            guard r.action == .failed else { continue }
            // The code from Diagnostic-Code ("smtp; 550 5.1.1 ..."), the enhanced code from Status.
            var code = 0
            if let diag = r.diagnosticCode?.value, let n = Int(diag.prefix(3)), (500..<600).contains(n) { code = n }
            let statusParts = r.status.split(separator: " ").first.map { $0.split(separator: ".") } ?? []
            let secode = statusParts.count == 3 ? "\(statusParts[1]).\(statusParts[2])" : ""
            if code == 0, statusParts.first == "5" { code = 550 }
            guard code != 0 else { continue }
            if let reason = try? outgoing.queue.suppressAfterFailure(retired.message, code: code, secode: secode, source: "DSN", now: now) {
                log.info(
                    "added recipient to suppression list",
                    metadata: ["account": "\(retired.message.senderAccount)", "address": "\(retired.message.recipient)", "reason": "\(reason)"]
                )
            }
        }
    }

    enum FromIDSender {
        /// MAIL FROM already has an id after the separator: the submitter's own.
        case chosen(base: String, separator: String, id: String)
        case generate(base: String, separator: String)
    }

    /// fromid (mox's FromIDLoginAddresses): when the login address is one of the account's
    /// FromIDLoginAddresses and the sender's domain has a catchall separator, each recipient's
    /// MAIL FROM gets a unique id after the first separator, so a DSN or reply to that address
    /// identifies the message and recipient.
    func fromIDSender(_ sender: Address, origin: DeliveryOrigin) -> FromIDSender? {
        guard let account = origin.account, let login = origin.loginAddress,
            let settings = self.config.dynamicConfig.accounts[account],
            settings.fromIDLoginAddresses.contains(where: { $0.lowercased() == login.lowercased() }),
            let domain = self.config.dynamicConfig.domains[sender.domain.ascii] ?? self.config.dynamicConfig.domains[sender.domain.unicode]
        else { return nil }
        guard let separator = domain.catchallSeparators.first else { return nil }
        let local = sender.localpart.value
        if let (base, id) = Self.splitFromID(local, separator: separator) {
            return .chosen(base: base, separator: separator, id: id)
        }
        return .generate(base: local, separator: separator)
    }

    /// A fromid localpart split at the first separator: the base and a non-empty id after it.
    static func splitFromID(_ localpart: String, separator: String) -> (base: String, id: String)? {
        guard let cut = localpart.firstRange(of: separator), cut.upperBound < localpart.endIndex else { return nil }
        return (String(localpart[..<cut.lowerBound]), String(localpart[cut.upperBound...]))
    }

    /// 16 random bytes in unpadded base64url: 22 characters, as mox makes them.
    static func randomFromID() -> String {
        var rng = SystemRandomNumberGenerator()
        return Self.base64URL((0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }

    /// mox's X-Mox-Extra-<key> header fields: extra data for the message's queue entry and its
    /// webhooks, the key in canonical form ("x-mox-extra-order-id" is "Order-Id"). The same
    /// key twice is refused, as mox does.
    /// The message with its X-Mox-Extra-* header fields left out, in a new spool file; the
    /// body is copied in blocks (memory stays bounded).
    func withoutMoxExtra(_ message: SpooledMessage) throws -> SpooledMessage {
        let header = message.scanned.header
        let spool = try self.makeSpool()
        for field in header.fields where !header.name(of: field).lowercased().hasPrefix("x-mox-extra-") {
            spool.append(header.bytes[field.start..<field.end])
        }
        spool.append(Array("\r\n".utf8))
        var at = message.scanned.root.bodyStart
        while at < message.size {
            let chunk = try message.read(offset: at, count: 65536)
            if chunk.isEmpty { break }
            spool.append(chunk)
            at += chunk.count
        }
        return try spool.finish()
    }

    enum MoxExtra: Equatable {
        case extra([String: String])
        case refused(SMTPReply)
    }

    static func moxExtra(_ header: Header) -> MoxExtra {
        var out: [String: String] = [:]
        let prefix = "x-mox-extra-"
        for field in header.fields {
            let fieldName = header.name(of: field)
            let name = fieldName.lowercased()
            guard name.hasPrefix(prefix), name.count > prefix.count else { continue }
            let key = Self.canonicalKey(String(fieldName.dropFirst(prefix.count)))
            guard out[key] == nil else {
                return .refused(SMTPReply(554, EnhancedCode(class: 5, subject: 6, detail: 0), "duplicate x-mox-extra- key \"\(key)\""))
            }
            out[key] = trimmedWhitespace(header.value(of: field))
        }
        return .extra(out)
    }

    /// "order-id" as "Order-Id": upper case after each dash and at the start.
    static func canonicalKey(_ s: String) -> String {
        var out = ""
        var upper = true
        for c in s {
            out.append(upper ? Character(c.uppercased()) : Character(c.lowercased()))
            upper = c == "-"
        }
        return out
    }
}
