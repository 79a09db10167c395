import MailAddress
import SMTPProtocol
import Testing

@Suite struct SMTPCommandParserTests {
    static let ok: [(String, SMTPCommand)] = [
        // RFC 5321 4.1.1.1; verbs are case-insensitive (RFC 5321 2.4).
        ("EHLO mail.example.org", .ehlo(.domain(domain("mail.example.org")))),
        ("ehlo Mail.Example.ORG", .ehlo(.domain(domain("mail.example.org")))),
        ("EHLO example.org  ", .ehlo(.domain(domain("example.org")))),
        ("EHLO [192.0.2.1]", .ehlo(.ipv4([192, 0, 2, 1]))),
        ("EHLO [IPv6:2001:db8::1]", .ehlo(.ipv6([0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1]))),
        ("EHLO [ipv6:::1]", .ehlo(.ipv6(Array(repeating: 0, count: 15) + [1]))),
        // RFC 5321 4.1.4: text after an address literal is ignored.
        ("EHLO [192.0.2.1] my laptop", .ehlo(.ipv4([192, 0, 2, 1]))),
        ("HELO example.org", .helo(.domain(domain("example.org")))),
        ("MAIL FROM:<a@example.org>", .mail(.mailbox(mailbox("a", "example.org")), MailParameters())),
        ("mail from:<a@Example.org>", .mail(.mailbox(mailbox("a", "example.org")), MailParameters())),
        // RFC 5321 4.5.5: the null reverse-path.
        ("MAIL FROM:<>", .mail(.null, MailParameters())),
        // Space after the colon: not in RFC 5321, accepted like mox.
        ("MAIL FROM: <a@example.org>", .mail(.mailbox(mailbox("a", "example.org")), MailParameters())),
        // RFC 5321 4.1.2, C: source routes are accepted and ignored.
        (
            "MAIL FROM:<@a.example,@b.example:user@c.example>",
            .mail(.mailbox(mailbox("user", "c.example")), MailParameters())
        ),
        ("RCPT TO:<@relay.example:x@example.org>", .rcpt(.mailbox(mailbox("x", "example.org")), RcptParameters())),
        // RFC 5321 4.1.2: quoted local-parts, decoded.
        ("MAIL FROM:<\"a b\\\"c\"@example.org>", .mail(.mailbox(mailbox("a b\"c", "example.org")), MailParameters())),
        ("MAIL FROM:<\"a>b\"@example.org>", .mail(.mailbox(mailbox("a>b", "example.org")), MailParameters())),
        (
            "MAIL FROM:<first.last+tag@example.org>",
            .mail(.mailbox(mailbox("first.last+tag", "example.org")), MailParameters())
        ),
        (
            "MAIL FROM:<a@[192.0.2.1]>",
            .mail(
                .mailbox(SMTPMailbox(localpart: Localpart(uncheckedValue: "a"), host: .ipv4([192, 0, 2, 1]))),
                MailParameters()
            )
        ),
        ("RCPT TO:<b@example.org>", .rcpt(.mailbox(mailbox("b", "example.org")), RcptParameters())),
        ("RCPT TO: <b@example.org>", .rcpt(.mailbox(mailbox("b", "example.org")), RcptParameters())),
        // RFC 5321 4.5.1: Postmaster without domain, case-insensitive.
        ("RCPT TO:<Postmaster>", .rcpt(.postmaster, RcptParameters())),
        ("rcpt to:<POSTMASTER>", .rcpt(.postmaster, RcptParameters())),
        ("RCPT TO:<postmaster@example.org>", .rcpt(.mailbox(mailbox("postmaster", "example.org")), RcptParameters())),
        ("DATA", .data),
        ("data ", .data),
        // RFC 3030 2
        ("BDAT 1000", .bdat(size: 1000, last: false)),
        ("BDAT 0 LAST", .bdat(size: 0, last: true)),
        ("bdat 12 last", .bdat(size: 12, last: true)),
        ("RSET", .rset),
        ("NOOP", .noop(nil)),
        ("NOOP hello", .noop("hello")),
        ("NOOP \"hello world\"", .noop("hello world")),
        ("QUIT", .quit),
        ("VRFY user", .vrfy("user", smtputf8: false)),
        ("VRFY \"John Doe\"", .vrfy("John Doe", smtputf8: false)),
        // RFC 6531 3.7.4.2
        ("VRFY user SMTPUTF8", .vrfy("user", smtputf8: true)),
        ("EXPN list", .expn("list", smtputf8: false)),
        ("HELP", .help(nil)),
        ("HELP MAIL  please", .help("MAIL  please")),
        ("STARTTLS", .starttls),
        // RFC 4954 4
        ("AUTH PLAIN", .auth(mechanism: "PLAIN", initialResponse: nil)),
        ("AUTH plain AGFAYg==", .auth(mechanism: "PLAIN", initialResponse: "AGFAYg==")),
        ("AUTH PLAIN  AGFAYg==", .auth(mechanism: "PLAIN", initialResponse: "AGFAYg==")),
        ("AUTH EXTERNAL =", .auth(mechanism: "EXTERNAL", initialResponse: "")),
        ("AUTH SCRAM-SHA-256-PLUS", .auth(mechanism: "SCRAM-SHA-256-PLUS", initialResponse: nil)),
        ("XCLIENT ADDR=1.2.3.4", .unknown(verb: "XCLIENT")),
        ("", .unknown(verb: "")),
        ("GET / HTTP/1.1", .unknown(verb: "GET")),
    ]

    @Test(arguments: Self.ok)
    func parses(line: String, expected: SMTPCommand) throws {
        let cmd = try SMTPCommandParser.parse(line: bytes(line))
        #expect(cmd == expected)
    }

    /// parse(format(x)) == x for every command of the table.
    @Test(arguments: Self.ok.map(\.1))
    func roundTrip(command: SMTPCommand) throws {
        let smtputf8: Bool
        if case .mail(_, let p) = command { smtputf8 = p.smtputf8 } else { smtputf8 = false }
        let line = command.encoded()
        #expect(line.suffix(2) == [13, 10])
        let parsed = try SMTPCommandParser.parse(
            line: Array(line.dropLast(2)),
            options: SMTPParserOptions(smtputf8: smtputf8)
        )
        #expect(parsed == command, "\(command.line)")
    }

    @Test func encodedForms() {
        #expect(
            SMTPCommand.mail(
                .null,
                mailParams {
                    $0.size = 10
                    $0.auth = .mailbox("a+b@c")
                }
            ).line == "MAIL FROM:<> SIZE=10 AUTH=a+2Bb@c"
        )
        #expect(
            SMTPCommand.rcpt(.postmaster, rcptParams { $0.notify = .conditions([.delay, .success]) }).line
                == "RCPT TO:<postmaster> NOTIFY=SUCCESS,DELAY"
        )
        #expect(SMTPCommand.auth(mechanism: "PLAIN", initialResponse: "").line == "AUTH PLAIN =")
        #expect(SMTPCommand.noop("a b").line == "NOOP \"a b\"")
        #expect(SMTPCommand.ehlo(.ipv6(Array(repeating: 0, count: 15) + [1])).line == "EHLO [IPv6:::1]")
    }

    /// Line, expected "code enhanced", and a word the reason must contain.
    static let failures: [(String, String, String)] = [
        ("EHLO", "501 5.5.2", "expected \" \""),
        ("EHLO ", "501 5.5.2", "domain label"),
        ("EHLO -bad.example", "501 5.5.2", "domain label"),
        ("EHLO bad-.example", "501 5.5.2", "invalid domain"),
        ("EHLO a..b", "501 5.5.2", "domain label"),
        ("EHLO example.org junk", "501 5.5.2", "unexpected data"),
        ("EHLO [300.1.1.1]", "501 5.5.2", "invalid IPv4"),
        ("EHLO [1.2.3]", "501 5.5.2", "invalid IPv4"),
        ("EHLO [01.2.3.4]", "501 5.5.2", "invalid IPv4"),
        ("EHLO [2001:db8::1]", "501 5.5.2", "[IPv6:...]"),
        ("EHLO [IPv6:1.2.3.4]", "501 5.5.2", "invalid IPv6"),
        ("EHLO [IPv6:1::2::3]", "501 5.5.2", "invalid IPv6"),
        ("EHLO [x400:foo]", "501 5.5.2", "unrecognized address literal"),
        ("EHLO [1.2.3.4", "501 5.5.2", "expected \"]\""),
        // RFC 5321 4.1.1.1: HELO takes only a domain.
        ("HELO [192.0.2.1]", "501 5.5.2", "domain label"),
        ("MAIL", "501 5.5.2", "FROM:"),
        ("MAIL TO:<a@example.org>", "501 5.5.2", "FROM:"),
        ("MAIL FROM:a@example.org", "501 5.5.2", "expected \"<\""),
        ("MAIL FROM:<a@example.org", "501 5.5.2", "\">\""),
        ("MAIL FROM:<a@example.org> %junk", "501 5.5.2", "parameter keyword"),
        ("MAIL FROM:<a>", "501 5.5.2", "expected \"@\""),
        ("MAIL FROM:<@example.org>", "501 5.5.2", "expected \":\""),
        ("MAIL FROM:<a..b@example.org>", "501 5.5.2", "atom"),
        ("MAIL FROM:<.a@example.org>", "501 5.5.2", "atom"),
        ("MAIL FROM:<a@example.org.>", "501 5.5.2", "domain label"),
        ("MAIL FROM:<\"a@example.org>", "501 5.5.2", "\">\""),
        ("MAIL FROM:<a@-example.org>", "501 5.5.2", "domain label"),
        ("MAIL FROM:<a@b@example.org>", "501 5.5.2", "after mailbox"),
        ("MAIL FROM:<a b@example.org>", "501 5.5.2", "expected \"@\""),
        // RFC 6531 3.7.1: non-ASCII local-part without SMTPUTF8: 550 in MAIL, 553 in RCPT (as mox).
        ("MAIL FROM:<jøran@example.org>", "550 5.6.7", "SMTPUTF8"),
        ("MAIL FROM:<\"jøran\"@example.org>", "550 5.6.7", "SMTPUTF8"),
        ("RCPT TO:<jøran@example.org>", "553 5.6.7", "SMTPUTF8"),
        ("MAIL FROM:<a@ø.example>", "501 5.5.2", "domain label"),
        ("RCPT", "501 5.5.2", "TO:"),
        ("RCPT TO:", "501 5.5.2", "expected \"<\""),
        ("RCPT TO:<>", "501 5.5.2", "atom"),
        ("RCPT TO:<a@example.org", "501 5.5.2", "expected \">\""),
        ("RCPT TO:<postmaster>x", "501 5.5.2", "unexpected data"),
        ("DATA now", "501 5.5.2", "unexpected data"),
        ("RSET x", "501 5.5.2", "unexpected data"),
        ("QUIT please", "501 5.5.2", "unexpected data"),
        ("STARTTLS x", "501 5.5.2", "unexpected data"),
        ("BDAT", "501 5.5.2", "expected \" \""),
        ("BDAT x", "501 5.5.2", "chunk size"),
        ("BDAT -1", "501 5.5.2", "chunk size"),
        ("BDAT 10 FIRST", "501 5.5.2", "LAST"),
        ("BDAT 99999999999999999999", "501 5.5.2", "digits"),
        ("BDAT 9999999999999999999", "501 5.5.2", "too large"),
        ("NOOP \"open", "501 5.5.2", "unterminated"),
        ("VRFY", "501 5.5.2", "expected \" \""),
        ("VRFY a b", "501 5.5.2", "SMTPUTF8"),
        ("EXPN", "501 5.5.2", "expected \" \""),
        ("AUTH", "501 5.5.2", "expected \" \""),
        ("AUTH PLAIN ", "501 5.5.2", "missing initial response"),
        ("AUTH PL@IN", "501 5.5.2", "expected \" \""),
        ("AUTH ABCDEFGHIJKLMNOPQRSTUVWXYZ", "501 5.5.2", "expected \" \""),
    ]

    @Test(arguments: Self.failures)
    func rejects(line: String, expected: String, reasonContains: String) {
        let r = parse(line)
        #expect(codes(r) == expected, "\(line)")
        if case .failure(let e) = r {
            #expect(e.reason.contains(reasonContains), "\(line): \(e.reason)")
            #expect(e.reply.text.contains(e.reason))
        }
    }

    /// Pedantic mode follows RFC 5321 to the letter.
    @Test(arguments: [
        "MAIL FROM: <a@example.org>",
        "RCPT TO: <a@example.org>",
        "DATA ",
        "EHLO example.org ",
        "AUTH PLAIN  AGFAYg==",
        "MAIL FROM:<\(String(repeating: "a", count: 65))@example.org>",
    ])
    func pedanticRejects(line: String) {
        #expect(codes(parse(line, pedantic: true)) == "501 5.5.2", "\(line)")
        #expect(codes(parse(line)) == "ok", "\(line)")
    }

    @Test func localpartLength() {
        // RFC 5321 4.5.3.1.1 allows 64; like mox we allow 128.
        let lp128 = String(repeating: "a", count: 128)
        #expect(codes(parse("MAIL FROM:<\(lp128)@example.org>")) == "ok")
        #expect(codes(parse("MAIL FROM:<\(lp128)a@example.org>")) == "501 5.5.2")
    }

    @Test func pathLength() {
        // RFC 5321 4.5.3.1.3: 256 octets including the brackets.
        let label = String(repeating: "d", count: 60)
        let host = [label, label, label, "example"].joined(separator: ".")  // 190 octets
        let ok = String(repeating: "a", count: 254 - 1 - host.utf8.count)
        #expect(codes(parse("RCPT TO:<\(ok)@\(host)>")) == "ok")
        #expect(codes(parse("RCPT TO:<\(ok)b@\(host)>")) == "501 5.5.2")
        #expect(codes(parse("MAIL FROM:<\(ok)@\(host)>")) == "ok")
        #expect(codes(parse("MAIL FROM:<\(ok)b@\(host)>")) == "501 5.5.2")
    }

    /// RFC 6531 3.3: with SMTPUTF8, UTF-8 local-parts and domains.
    @Test func smtputf8Addresses() throws {
        let cmd = try SMTPCommandParser.parse(line: bytes("MAIL FROM:<jøran@møx.example> SMTPUTF8"))
        guard case .mail(let path, let params) = cmd else {
            Issue.record("not MAIL")
            return
        }
        #expect(params.smtputf8)
        #expect(path.mailbox?.localpart.value == "jøran")
        #expect(path.mailbox?.host.domain?.unicode == "møx.example")
        #expect(path.mailbox?.host.domain?.ascii.hasPrefix("xn--") == true)

        let rcpt = try SMTPCommandParser.parse(
            line: bytes("RCPT TO:<ñ@example.org>"),
            options: SMTPParserOptions(smtputf8: true)
        )
        #expect(rcpt == .rcpt(.mailbox(mailbox("ñ", "example.org")), RcptParameters()))
    }

    @Test func lenientHello() throws {
        let options = SMTPParserOptions(lenientHello: true)
        #expect(try SMTPCommandParser.parse(line: bytes("EHLO [2001:db8::1] x"), options: options) == .ehlo(nil))
        #expect(try SMTPCommandParser.parse(line: bytes("EHLO"), options: options) == .ehlo(nil))
        #expect(
            try SMTPCommandParser.parse(line: bytes("HELO example.org"), options: options)
                == .helo(.domain(domain("example.org")))
        )
    }

    @Test func sliceInput() throws {
        let line = bytes("xxRSETyy")
        #expect(try SMTPCommandParser.parse(line: line[2..<6]) == .rset)
    }

    @Test func syntaxErrorKeepsRemainderForLogs() {
        guard case .failure(let e) = parse("MAIL FROM:<a@example.org> SIZE=x1") else {
            Issue.record("expected failure")
            return
        }
        #expect(e.remaining == "x1")
        #expect(e.description.contains("x1"))
        #expect(!e.reply.text.contains("x1"))
    }

    /// Formatting and parsing address literals round-trips (RFC 5952 text form).
    @Test(arguments: [
        "[192.0.2.1]", "[IPv6:2001:db8::1]", "[IPv6:::1]", "[IPv6:fe80::1:0:0:1]", "[IPv6:1:2:3:4:5:6:7:8]",
        "[IPv6:::]",
    ])
    func addressLiteralRoundTrip(literal: String) throws {
        let cmd = try SMTPCommandParser.parse(line: bytes("EHLO " + literal))
        guard case .ehlo(let host?) = cmd else {
            Issue.record("no host")
            return
        }
        #expect(host.formatted == literal)
    }

    @Test func ipv6WithEmbeddedIPv4() throws {
        let cmd = try SMTPCommandParser.parse(line: bytes("EHLO [IPv6:::ffff:192.0.2.1]"))
        #expect(cmd == .ehlo(.ipv6(Array(repeating: 0, count: 10) + [0xff, 0xff, 192, 0, 2, 1])))
    }

    @Test func mailboxFormatting() {
        let m = SMTPMailbox(localpart: Localpart(uncheckedValue: "a b"), host: .domain(domain("example.org")))
        #expect(ReversePath.mailbox(m).formatted == "<\"a b\"@example.org>")
        #expect(ReversePath.null.formatted == "<>")
        #expect(ReversePath.null.path == Path.null)
        #expect(ForwardPath.postmaster.formatted == "<postmaster>")
        #expect(m.address?.formatted == "\"a b\"@example.org")
        let lit = SMTPMailbox(localpart: Localpart(uncheckedValue: "a"), host: .ipv4([10, 0, 0, 1]))
        #expect(lit.address == nil)
        #expect(ReversePath.mailbox(lit).path == nil)
        #expect(lit.formatted == "a@[10.0.0.1]")
    }

    /// Parsing arbitrary bytes never traps.
    @Test func garbageDoesNotTrap() {
        var seed: UInt64 = 0x1234_5678
        let pieces = [
            "MAIL FROM:<", "RCPT TO:<", "@", ">", "\"", "\\", " ", "=", "+", "[", "]", "IPv6:", ":", ".", "a", "ø",
            "\u{0}", "SIZE", "BODY", "NOTIFY=", "ORCPT=", ";", ",",
        ]
        for _ in 0..<3000 {
            var line = ""
            for _ in 0..<12 {
                seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                line += pieces[Int(seed >> 33) % pieces.count]
            }
            _ = parse(line)
            _ = parse(line, smtputf8: true)
        }
        var raw: [UInt8] = []
        for i in 0..<2000 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            raw.append(UInt8(truncatingIfNeeded: seed >> 40))
            if i % 50 == 0 {
                _ = try? SMTPCommandParser.parse(line: bytes("MAIL FROM:<") + raw)
                _ = try? SMTPCommandParser.parse(line: bytes("EHLO [IPv6:") + raw)
            }
        }
    }
}
