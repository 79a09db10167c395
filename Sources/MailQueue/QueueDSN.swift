import MailMessage

/// What went wrong in an attempt, for the DSN and the delivery result.
public struct DeliveryFailure: Sendable, Equatable {
    /// 0 when no server answered.
    public var code: Int
    /// Enhanced code without its class ("1.1"); empty when unknown.
    public var secode: String
    public var message: String
    /// The server's reply lines, when it sent any.
    public var smtpLines: [String]
    public var permanent: Bool
    /// The host and IP that answered, for Remote-MTA.
    public var remoteHost: String
    public var remoteIP: String

    public init(
        code: Int, secode: String, message: String, smtpLines: [String] = [], permanent: Bool, remoteHost: String = "",
        remoteIP: String = ""
    ) {
        self.code = code
        self.secode = secode
        self.message = message
        self.smtpLines = smtpLines
        self.permanent = permanent
        self.remoteHost = remoteHost
        self.remoteIP = remoteIP
    }
}

/// Delivery status notifications for the sender of a queued message (RFC 3464), delivered
/// into the sender's own account, never sent over SMTP (RFC 5321 6.1: we only queue for
/// our own authenticated users). The text and fields are those mox writes.
public enum QueueDSN {
    /// A complete message: header, a text part, the delivery-status part and the original
    /// message's header (RFC 6522 multipart/report).
    public static func compose(
        _ m: QueuedMessage, originalHeader: [UInt8], failure: DeliveryFailure, permanent: Bool, hostname: String,
        now: Int64, zoneMinutes: Int = 0, random: [UInt8]
    ) throws(ComposeError) -> [UInt8] {
        let recipient = m.recipient
        var text: String
        let subject: String
        if permanent {
            subject = "mail delivery failed"
            text =
                "\nDelivery has failed permanently for your email to:\n\n\t\(recipient)\n\n"
                + "No further deliveries will be attempted.\n\n"
                + "Error during the last delivery attempt:\n\n\t\(failure.message)\n"
        } else {
            subject = "mail delivery delayed"
            text =
                "\nDelivery has been delayed of your email to:\n\n\t\(recipient)\n\n"
                + "Next attempts to deliver: in 2 hours, 4 hours and 8 hours.\n"
                + "If these attempts all fail, you will receive a notice.\n\n"
                + "Error during the last delivery attempt:\n\n\t\(failure.message)\n"
        }
        if !failure.smtpLines.isEmpty {
            text += "\nFull SMTP response:\n\n\t" + failure.smtpLines.joined(separator: "\n\t") + "\n"
        }
        // RFC 3464 2.3.4: Status class.subject.detail; the failure's own or a generic one.
        let status = (permanent ? "5." : "4.") + (failure.secode.isEmpty ? "0.0" : failure.secode)
        var remoteMTA: DSN.Typed?
        if !failure.remoteHost.isEmpty {
            remoteMTA = DSN.Typed(
                type: "dns", value: failure.remoteHost + (failure.remoteIP.isEmpty ? "" : " (\(failure.remoteIP))")
            )
        }
        let last = MessageDate(unixTime: m.lastAttempt ?? now, zoneMinutes: zoneMinutes)
        var dsn = DSN(
            reportingMTA: DSN.Typed(type: "dns", value: hostname),
            arrivalDate: MessageDate(unixTime: m.queued, zoneMinutes: zoneMinutes),
            recipients: [
                DSN.Recipient(
                    finalRecipient: DSN.Typed(type: m.smtputf8 ? "utf-8" : "rfc822", value: recipient),
                    action: permanent ? .failed : .delayed,
                    status: status + " (\(Self.ascii(failure.message)))",
                    remoteMTA: remoteMTA,
                    diagnosticCode: failure.smtpLines.isEmpty
                        ? nil : DSN.Typed(type: "smtp", value: failure.smtpLines.joined(separator: " ")),
                    lastAttemptDate: last,
                    // RFC 3464 2.3.9: the remaining attempts (2h, 4h and 8h after this one).
                    willRetryUntil: permanent ? nil : MessageDate(unixTime: (m.lastAttempt ?? now) + 14 * 3600, zoneMinutes: zoneMinutes)
                )
            ]
        )
        if !m.futureReleaseRequest.isEmpty {
            dsn.extensionFields.append(DSN.Field(name: "Future-Release-Request", value: m.futureReleaseRequest))
        }
        var composer = MessageComposer(smtputf8: m.smtputf8, allow8bit: m.smtputf8)
        try composer.add("From", addresses: [MessageAddress(localpart: "postmaster", domain: hostname)])
        if let (local, domain) = MailQueue.split(m.sender) {
            try composer.add("To", addresses: [MessageAddress(localpart: local, domain: domain)])
        }
        try composer.add("Subject", text: subject)
        try composer.add("Message-Id", structured: MessageIDs.generate(random: random, host: hostname))
        if !m.messageID.isEmpty {
            try composer.add("References", structured: m.messageID)
        }
        composer.add(date: MessageDate(unixTime: now, zoneMinutes: zoneMinutes))
        return try composer.finish(body: dsn.reportPart(text: text, original: .headers(originalHeader), smtputf8: m.smtputf8))
    }

    /// Status comments are ASCII (RFC 3464 2.3.4 comments in an RFC 5322 field).
    static func ascii(_ s: String) -> String {
        String(s.unicodeScalars.map { $0.isASCII && $0.value >= 32 && $0.value != 0x28 && $0.value != 0x29 ? Character($0) : " " })
    }
}
