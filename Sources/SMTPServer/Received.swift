// The trace header added to every accepted message.

import MailMessage
import SMTPProtocol

#if canImport(Glibc)
import Glibc
#endif

enum ReceivedHeader {
    /// RFC 5321 4.4: "Received: from <EHLO name> (<IP>) by <host> with <protocol> id <id> [for
    /// <path>]; <date>", folded over lines. The protocol names come from RFC 3848 (ESMTP, ESMTPS,
    /// ESMTPA, ESMTPSA) and RFC 6531 3.7.3 (UTF8SMTP...).
    static func make(
        client: SMTPClientInfo,
        hostname: String,
        smtputf8: Bool,
        extended: Bool,
        recipient: ForwardPath?,
        now: Int64 = Int64(WallClock.seconds())
    ) -> String {
        var with = smtputf8 ? "UTF8SMTP" : (extended ? "ESMTP" : "SMTP")
        if client.tls { with += "S" }
        if client.account != nil { with += "A" }
        if with == "SMTPS" || with == "SMTPA" || with == "SMTPSA" {
            with = "E" + with
        }
        let from = client.hello.isEmpty ? "unknown" : client.hello
        var header =
            "Received: from \(from) ([\(client.remoteIP)])\r\n\tby \(hostname) ([\(client.localIP)]) with \(with) id \(Self.id())"
        if let recipient {
            header += "\r\n\tfor \(recipient)"
        }
        header += ";\r\n\t" + MessageDate(unixTime: now).formatted + "\r\n"
        return header
    }

    /// A short random identifier for the transaction, to find it in logs.
    static func id() -> String {
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
