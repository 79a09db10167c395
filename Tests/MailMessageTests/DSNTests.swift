import MailMessage
import Testing

@Suite struct DSNTests {
    static func sample(utf8: Bool) -> DSN {
        let rcpt = utf8 ? "jörg@bücher.example" : "bob@example.com"
        return DSN(
            originalEnvelopeID: "env-123",
            reportingMTA: .init(type: "dns", value: "mail.example.org"),
            receivedFromMTA: .init(type: "dns", value: "client.example.net"),
            arrivalDate: MessageDate(unixTime: 1_709_632_801),
            recipients: [
                .init(
                    originalRecipient: .init(type: utf8 ? "utf-8" : "rfc822", value: rcpt),
                    finalRecipient: .init(type: utf8 ? "utf-8" : "rfc822", value: rcpt),
                    action: .failed,
                    status: "5.1.1",
                    remoteMTA: .init(type: "dns", value: "mx.example.com"),
                    diagnosticCode: .init(
                        type: "smtp",
                        value: "550 5.1.1 the user you are trying to reach does not exist here, "
                            + "please check the address and try again later or contact the postmaster"
                    ),
                    lastAttemptDate: MessageDate(unixTime: 1_709_632_802, zoneMinutes: 60)
                ),
                .init(
                    finalRecipient: .init(type: "rfc822", value: "carol@example.com"),
                    action: .delayed,
                    status: "4.4.1",
                    willRetryUntil: MessageDate(unixTime: 1_709_892_001),
                    extensionFields: [.init(name: "X-Attempts", value: "3")]
                ),
                .init(
                    finalRecipient: .init(type: "rfc822", value: "d@example.com"),
                    action: .delivered,
                    status: "2.0.0"
                ),
                .init(finalRecipient: .init(type: "rfc822", value: "e@example.com"), action: .relayed, status: "2.0.0"),
                .init(
                    finalRecipient: .init(type: "rfc822", value: "f@example.com"),
                    action: .expanded,
                    status: "2.0.0"
                ),
            ]
        )
    }

    @Test(arguments: [false, true])
    func composeParseRoundTrip(smtputf8: Bool) throws {
        let dsn = Self.sample(utf8: smtputf8)
        let original = bytes("From: alice@example.org\r\nTo: bob@example.com\r\nSubject: hi\r\n\r\nbody\r\n")
        var c = MessageComposer(smtputf8: smtputf8)
        try c.add(
            "From",
            addresses: [
                MessageAddress(name: "Mail Delivery Subsystem", localpart: "postmaster", domain: "mail.example.org")
            ]
        )
        try c.add("To", addresses: [MessageAddress(localpart: "alice", domain: "example.org")])
        try c.add("Subject", text: "Delivery Status Notification (Failure)")
        let out = try c.finish(
            body: dsn.reportPart(
                text: "Delivery to some recipients failed.\n",
                original: .message(original),
                smtputf8: smtputf8
            )
        )
        #expect(checkLines(out, max: 998))
        if !smtputf8 { #expect(out.allSatisfy { $0 < 0x80 }) }
        let m = Message(parsing: out)
        #expect(m.root.contentType.subtype == "report")
        #expect(m.root.contentType.parameter("report-type") == "delivery-status")
        #expect(m.root.parts.count == 3)
        #expect(m.root.parts[1].contentType.subtype == (smtputf8 ? "global-delivery-status" : "delivery-status"))
        #expect(m.root.parts[2].message?.header.first("Subject") == "hi")
        let parsed = try #require(DSN.parse(m))
        #expect(parsed == dsn)
    }

    @Test func headersOnly() throws {
        let dsn = Self.sample(utf8: false)
        let h = bytes("From: alice@example.org\r\nSubject: hi\r\n")
        var c = MessageComposer()
        let out = try c.finish(body: dsn.reportPart(text: "x", original: .headers(h), smtputf8: false))
        let m = Message(parsing: out)
        #expect(m.root.parts[2].contentType.subtype == "rfc822-headers")
        #expect(m.root.parts[2].decodedBody == h)
        #expect(DSN.parse(m) == dsn)
    }

    /// A UTF-8 address in a plain delivery-status is written as utf-8-addr-xtext (RFC 6533 3) and read back;
    /// control characters in remote text cannot start a new field.
    @Test func xtextAndSanitising() throws {
        var dsn = Self.sample(utf8: true)
        dsn.recipients[0].finalRecipient = .init(type: "utf-8", value: "jö+rg=x@bücher.example")
        dsn.recipients[0].diagnosticCode = .init(type: "smtp", value: "550 bad\r\nAction: delivered")
        let status = dsn.deliveryStatus(utf8: false)
        #expect(status.allSatisfy { $0 < 0x80 })
        #expect(
            String(decoding: status, as: UTF8.self).contains("utf-8; j\\x{F6}\\x{2B}rg\\x{3D}x@b\\x{FC}cher.example")
        )
        let parsed = try #require(DSN.parse(deliveryStatus: status))
        #expect(parsed.recipients[0].finalRecipient == dsn.recipients[0].finalRecipient)
        #expect(parsed.recipients[0].action == .failed)
        #expect(parsed.recipients[0].diagnosticCode?.value == "550 bad Action: delivered")
        #expect(parsed.recipients[0].originalRecipient?.value == "jörg@bücher.example")
    }

    @Test func postfixShaped() throws {
        let m = Message(parsing: fixture("dsn-postfix.eml"))
        let dsn = try #require(DSN.parse(m))
        #expect(dsn.reportingMTA == .init(type: "dns", value: "mx.example.net"))
        #expect(dsn.arrivalDate == MessageDate(unixTime: 1_709_632_801))
        #expect(dsn.extensionFields.map(\.name) == ["X-Postfix-Queue-ID", "X-Postfix-Sender"])
        #expect(dsn.recipients.count == 2)
        let bob = dsn.recipients[0]
        #expect(bob.finalRecipient == .init(type: "rfc822", value: "bob@example.com"))
        #expect(bob.originalRecipient == .init(type: "rfc822", value: "bob@example.com"))
        #expect(bob.action == .failed)
        #expect(bob.status == "5.1.1")
        #expect(bob.remoteMTA?.value == "mx.example.com")
        #expect(bob.diagnosticCode?.type == "smtp")
        #expect(bob.diagnosticCode?.value.hasSuffix("Recipient address rejected:    User unknown") == true)
        let carol = dsn.recipients[1]
        #expect(carol.finalRecipient == .init(type: "rfc822", value: "carol@example.com"))
        #expect(carol.action == .delayed)
        #expect(carol.status == "4.4.1")
        #expect(carol.willRetryUntil == MessageDate(unixTime: 1_709_892_001))
    }

    @Test func exchangeShaped() throws {
        let m = Message(parsing: fixture("dsn-exchange.eml"))
        let dsn = try #require(DSN.parse(m))
        #expect(dsn.reportingMTA.value.isEmpty)
        #expect(dsn.recipients.count == 1)
        let r = dsn.recipients[0]
        #expect(r.finalRecipient == .init(type: "", value: "eve@corp.example"))
        #expect(r.action == .failed)
        #expect(r.status == "5.2.2")
        #expect(r.diagnosticCode == .init(type: "smtp", value: "552 5.2.2 mailbox full"))
        #expect(r.extensionFields == [.init(name: "X-Display-Name", value: "Eve")])
    }

    @Test func notADSN() {
        #expect(DSN.parse(Message(parsing: fixture("simple.eml"))) == nil)
        #expect(DSN.parse(deliveryStatus: []) == nil)
        #expect(DSN.parse(deliveryStatus: bytes("\r\n\r\n  \r\n")) == nil)
    }

    /// Random bytes and truncations of the fixtures never crash the parser.
    @Test func robustness() {
        var rng = TestRandom(state: 0x1234_5678_9abc_def1)
        let base = fixture("dsn-postfix.eml")
        for _ in 0..<300 {
            var b = base
            b.removeLast(rng.below(b.count))
            for _ in 0..<rng.below(20) where !b.isEmpty {
                b[rng.below(b.count)] = UInt8(truncatingIfNeeded: rng.next())
            }
            _ = DSN.parse(Message(parsing: b))
            _ = DSN.parse(deliveryStatus: b)
        }
    }
}
