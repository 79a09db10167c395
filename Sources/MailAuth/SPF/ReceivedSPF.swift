// The Received-SPF header (RFC 7208 9.1) that records a check in the delivered message.

import MailAddress

public struct ReceivedSPF: Hashable, Sendable {
    public var status: SPFStatus
    /// Free text in the header's comment: which domain was checked and how.
    public var comment: String
    public var clientIP: IPAddress
    /// RFC 7208 9.1: the sender, "postmaster@helo" when MAIL FROM was empty.
    public var envelopeFrom: String
    public var helo: String
    public var problem: String
    public var mechanism: String
    public var receiver: String
    /// "mailfrom" or "helo".
    public var identity: String

    public init(
        status: SPFStatus, comment: String, clientIP: IPAddress, envelopeFrom: String, helo: String, problem: String = "",
        mechanism: String = "", receiver: String, identity: String
    ) {
        self.status = status
        self.comment = comment
        self.clientIP = clientIP
        self.envelopeFrom = envelopeFrom
        self.helo = helo
        self.problem = problem
        self.mechanism = mechanism
        self.receiver = receiver
        self.identity = identity
    }

    /// The header field with CRLF, folded before 78 characters where possible.
    public var header: String {
        var words = ["Received-SPF: \(self.status.rawValue)"]
        if !self.comment.isEmpty { words.append("(\(self.comment))") }
        words.append("client-ip=\(Self.value(self.clientIP.description));")
        words.append("envelope-from=\(Self.value(self.envelopeFrom));")
        words.append("helo=\(Self.value(self.helo));")
        if !self.problem.isEmpty {
            words.append("problem=\(Self.value(String(self.problem.prefix(77 - "problem=; ".count))));")
        }
        if !self.mechanism.isEmpty { words.append("mechanism=\(Self.value(self.mechanism));") }
        words.append("receiver=\(Self.value(self.receiver));")
        words.append("identity=\(Self.value(self.identity))")
        return HeaderFolding.fold(words) + "\r\n"
    }

    /// RFC 7208 9.1 key-value-pair: value = dot-atom / quoted-string / address-literal.
    static func value(_ s: String) -> String {
        // RFC 5322 3.2.3: a dot-atom (atext, and single dots inside) stays; else a quoted-string.
        let bytes = s.utf8
        var atom = !bytes.isEmpty
        var previous: UInt8 = UInt8(ascii: ".")
        var index = 0
        for b in bytes {
            index += 1
            if isAtext(b) {
                previous = b
                continue
            }
            if b == UInt8(ascii: "."), previous != UInt8(ascii: "."), index < bytes.count {
                previous = b
                continue
            }
            atom = false
            break
        }
        if atom { return s }
        return HeaderFolding.quoted(s)
    }
}

extension SPFVerifier {
    /// The check for an incoming SMTP transaction with its Received-SPF header, as mox words it.
    public func received(_ args: SPFArgs) async -> (outcome: SPFOutcome, domain: String?, header: ReceivedSPF) {
        let (outcome, domain, identity) = await self.verify(args)
        let helo = args.helo
        guard let domain else {
            let header = ReceivedSPF(
                status: .none, comment: "no domain, ehlo is an ip literal and mailfrom is empty", clientIP: args.remoteIP,
                envelopeFrom: "postmaster@\(helo)", helo: helo, receiver: args.localHostname, identity: "mailfrom"
            )
            return (outcome, nil, header)
        }
        var comment = "domain \(domain)"
        if identity == "helo" { comment += ", from ehlo because mailfrom is empty" }
        let localpart = identity == "helo" ? "postmaster" : args.mailFromLocalpart
        let header = ReceivedSPF(
            status: outcome.status, comment: comment, clientIP: args.remoteIP, envelopeFrom: "\(localpart)@\(domain)",
            helo: helo, problem: outcome.status == .temperror || outcome.status == .permerror ? outcome.problem : "",
            mechanism: outcome.mechanism, receiver: args.localHostname, identity: identity
        )
        return (outcome, domain, header)
    }
}
