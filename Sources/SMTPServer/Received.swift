// The trace header added to every accepted message.

import MailMessage
import SMTPProtocol

#if canImport(Glibc)
import Glibc
#endif

/// What the Received header of a transaction says; the backend asks for the header per recipient
/// ("for <path>", as mox writes it) when it stores the message.
public struct SMTPReceivedTrace: Sendable {
    public var client: SMTPClientInfo
    public var hostname: String
    public var smtputf8: Bool
    public var extended: Bool
    /// The transaction's id, the same for all its recipients.
    public var id: String
    public var time: Int64
    /// The client's name from reverse DNS (iprev), shown beside its IP when it differs from
    /// the EHLO name; empty when unknown.
    public var reverseName = ""

    public init(client: SMTPClientInfo, hostname: String, smtputf8: Bool, extended: Bool, id: String = ReceivedHeader.id(), time: Int64 = Int64(WallClock.seconds())) {
        self.client = client
        self.hostname = hostname
        self.smtputf8 = smtputf8
        self.extended = extended
        self.id = id
        self.time = time
    }

    /// The Received header field with its line ending, naming `recipient` when given.
    public func header(for recipient: ForwardPath?) -> String {
        ReceivedHeader.make(
            client: self.client,
            hostname: self.hostname,
            smtputf8: self.smtputf8,
            extended: self.extended,
            recipient: recipient,
            id: self.id,
            now: self.time,
            reverseName: self.reverseName
        )
    }
}

public enum ReceivedHeader {
    /// RFC 5321 4.4: "Received: from <EHLO name> (<IP>) by <host> with <protocol> id <id> [for
    /// <path>]; <date>", folded over lines. The protocol names come from RFC 3848 (ESMTP, ESMTPS,
    /// ESMTPA, ESMTPSA) and RFC 6531 3.7.3 (UTF8SMTP...).
    static func make(
        client: SMTPClientInfo,
        hostname: String,
        smtputf8: Bool,
        extended: Bool,
        recipient: ForwardPath?,
        id: String = ReceivedHeader.id(),
        now: Int64 = Int64(WallClock.seconds()),
        reverseName: String = ""
    ) -> String {
        var with = smtputf8 ? "UTF8SMTP" : (extended ? "ESMTP" : "SMTP")
        if client.tls { with += "S" }
        if client.account != nil { with += "A" }
        if with == "SMTPS" || with == "SMTPA" || with == "SMTPSA" {
            with = "E" + with
        }
        let from = client.hello.isEmpty ? "unknown" : client.hello
        // RFC 5321 4.4 TCP-info: the reverse name and the address literal.
        let name = !reverseName.isEmpty && reverseName.lowercased() != from.lowercased() ? reverseName + " " : ""
        var header =
            "Received: from \(from) (\(name)[\(client.remoteIP)])\r\n\tby \(hostname) ([\(client.localIP)]) with \(with) id \(id)"
        if let recipient {
            header += "\r\n\tfor \(recipient)"
        }
        header += ";\r\n\t" + MessageDate(unixTime: now).formatted + "\r\n"
        return header
    }

    /// A short random identifier for the transaction, to find it in logs.
    public static func id() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        return String((0..<16).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] })
    }
}

/// Wall-clock seconds since 1970, for trace headers, received times and rate-limit windows.
public enum WallClock {
    public static func seconds() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return ts.tv_sec
    }
}
