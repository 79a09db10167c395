import SMTPProtocol
import Testing

@Suite struct MailParameterTests {
    static let from = "MAIL FROM:<a@example.org>"

    static let ok: [(String, MailParameters)] = [
        // RFC 1870 3
        (" SIZE=12345", mailParams { $0.size = 12345 }),
        (" size=0", mailParams { $0.size = 0 }),
        (" SIZE=00012", mailParams { $0.size = 12 }),
        // RFC 6152 2, RFC 3030 3
        (" BODY=7BIT", mailParams { $0.body = .sevenBit }),
        (" BODY=8bitmime", mailParams { $0.body = .eightBitMIME }),
        (" BODY=BINARYMIME", mailParams { $0.body = .binaryMIME }),
        // RFC 6531 3.4
        (" SMTPUTF8", mailParams { $0.smtputf8 = true }),
        // RFC 4954 5
        (" AUTH=<>", mailParams { $0.auth = .unknown }),
        (" AUTH=e+3Dmc2@example.com", mailParams { $0.auth = .mailbox("e=mc2@example.com") }),
        // RFC 3461 4.3, 4.4
        (" RET=FULL", mailParams { $0.ret = .full }),
        (" RET=hdrs", mailParams { $0.ret = .headers }),
        (" ENVID=QQ314159+2B", mailParams { $0.envid = "QQ314159+" }),
        // RFC 8689 4.1
        (" REQUIRETLS", mailParams { $0.requireTLS = true }),
        (
            " SIZE=1000 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=x REQUIRETLS AUTH=<>",
            mailParams {
                $0.size = 1000
                $0.body = .eightBitMIME
                $0.smtputf8 = true
                $0.ret = .headers
                $0.envid = "x"
                $0.requireTLS = true
                $0.auth = .unknown
            }
        ),
        // Trailing white space is tolerated (RFC 5321 4.1.1).
        (" SIZE=1  ", mailParams { $0.size = 1 }),
    ]

    @Test(arguments: Self.ok)
    func parses(params: String, expected: MailParameters) throws {
        let cmd = try SMTPCommandParser.parse(line: bytes(Self.from + params))
        #expect(cmd == .mail(.mailbox(mailbox("a", "example.org")), expected))
    }

    /// Parameters, expected "code enhanced", and a word the reason must contain.
    static let failures: [(String, String, String)] = [
        // RFC 5321 4.1.1.11: 555 for unknown parameters (5.3.3 like mox).
        (" FOO=bar", "555 5.3.3", "FOO"),
        (" HOLDFOR=10", "555 5.3.3", "HOLDFOR"),
        (" NOTIFY=NEVER", "555 5.3.3", "NOTIFY"),
        // RFC 1869 6: duplicates (501 5.5.4 like mox).
        (" SIZE=1 size=2", "501 5.5.4", "duplicate"),
        (" SMTPUTF8 SMTPUTF8", "501 5.5.4", "duplicate"),
        (" SIZE", "501 5.5.2", "needs a value"),
        (" SIZE=", "501 5.5.2", "value for parameter SIZE"),
        (" SIZE=12a", "501 5.5.2", "digits only"),
        (" SIZE=-1", "501 5.5.2", "SIZE value"),
        (" SIZE=123456789012345678901", "501 5.5.2", "more than 20 digits"),
        (" SIZE=99999999999999999999", "501 5.5.2", "too large"),
        (" BODY=9BIT", "555 5.5.4", "BODY"),
        (" BODY", "501 5.5.2", "needs a value"),
        (" SMTPUTF8=yes", "501 5.5.2", "takes no value"),
        (" REQUIRETLS=1", "501 5.5.2", "takes no value"),
        (" RET=ALL", "555 5.5.4", "FULL or HDRS"),
        (" ENVID=a+2", "501 5.5.2", "xtext"),
        (" ENVID=a+ZZ", "501 5.5.2", "xtext"),
        (" ENVID=" + String(repeating: "x", count: 101), "555 5.5.4", "longer than 100"),
        (" AUTH=a+FF", "501 5.5.2", "UTF-8"),
        (" -SIZE=1", "501 5.5.2", "parameter keyword"),
        (" SIZE==1", "501 5.5.2", "value for parameter"),
        ("  SIZE=1", "501 5.5.2", "parameter keyword"),
        // RFC 6531 3.3: UTF-8 in values only with SMTPUTF8.
        (" ENVID=ø", "501 5.5.2", "SMTPUTF8"),
    ]

    @Test(arguments: Self.failures)
    func rejects(params: String, expected: String, reasonContains: String) {
        let r = parse(Self.from + params)
        #expect(codes(r) == expected, "\(params)")
        if case .failure(let e) = r {
            #expect(e.reason.contains(reasonContains), "\(params): \(e.reason)")
        }
    }

    @Test(arguments: Self.ok.map(\.1))
    func roundTrip(params: MailParameters) throws {
        let cmd = SMTPCommand.mail(.mailbox(mailbox("a", "example.org")), params)
        #expect(try SMTPCommandParser.parse(line: bytes(cmd.line)) == cmd)
    }

    @Test func utf8ValueWithSMTPUTF8() throws {
        let cmd = try SMTPCommandParser.parse(line: bytes(Self.from + " ENVID=ø SMTPUTF8"))
        #expect(
            cmd
                == .mail(
                    .mailbox(mailbox("a", "example.org")),
                    mailParams {
                        $0.envid = "ø"
                        $0.smtputf8 = true
                    }
                )
        )
    }
}

@Suite struct RcptParameterTests {
    static let to = "RCPT TO:<b@example.org>"

    static let ok: [(String, RcptParameters)] = [
        // RFC 3461 4.1
        (" NOTIFY=NEVER", rcptParams { $0.notify = .never }),
        (" NOTIFY=SUCCESS", rcptParams { $0.notify = .conditions(.success) }),
        (" notify=success,failure,DELAY", rcptParams { $0.notify = .conditions([.success, .failure, .delay]) }),
        // RFC 3461 4.2
        (
            " ORCPT=rfc822;b+2Bx@example.org",
            rcptParams { $0.orcpt = OriginalRecipient(addressType: "rfc822", address: "b+x@example.org") }
        ),
        (
            " NOTIFY=FAILURE ORCPT=rfc822;b@example.org",
            rcptParams {
                $0.notify = .conditions(.failure)
                $0.orcpt = OriginalRecipient(addressType: "rfc822", address: "b@example.org")
            }
        ),
    ]

    @Test(arguments: Self.ok)
    func parses(params: String, expected: RcptParameters) throws {
        let cmd = try SMTPCommandParser.parse(line: bytes(Self.to + params))
        #expect(cmd == .rcpt(.mailbox(mailbox("b", "example.org")), expected))
    }

    static let failures: [(String, String, String)] = [
        (" SIZE=10", "555 5.3.3", "SIZE"),
        (" FOO", "555 5.3.3", "FOO"),
        (" NOTIFY=SOMETIMES", "555 5.5.4", "NOTIFY"),
        (" NOTIFY=NEVER,SUCCESS", "555 5.5.4", "NEVER cannot be combined"),
        (" NOTIFY=NEVER,NEVER", "555 5.5.4", "NEVER cannot be combined"),
        (" NOTIFY=SUCCESS,", "555 5.5.4", "NOTIFY"),
        (" NOTIFY", "501 5.5.2", "needs a value"),
        (" NOTIFY=NEVER NOTIFY=NEVER", "501 5.5.4", "duplicate"),
        (" ORCPT=b@example.org", "501 5.5.2", "addr-type;address"),
        (" ORCPT=;b@example.org", "501 5.5.2", "atom"),
        (" ORCPT=rfc822;b+4", "501 5.5.2", "xtext"),
        (" ORCPT=rfc822;" + String(repeating: "x", count: 500), "555 5.5.4", "longer than 500"),
        (" ORCPT=utf-8;ø@example.org", "501 5.5.2", "without SMTPUTF8"),
    ]

    @Test(arguments: Self.failures)
    func rejects(params: String, expected: String, reasonContains: String) {
        let r = parse(Self.to + params)
        #expect(codes(r) == expected, "\(params)")
        if case .failure(let e) = r {
            #expect(e.reason.contains(reasonContains), "\(params): \(e.reason)")
        }
    }

    @Test(arguments: Self.ok.map(\.1))
    func roundTrip(params: RcptParameters) throws {
        let cmd = SMTPCommand.rcpt(.mailbox(mailbox("b", "example.org")), params)
        #expect(try SMTPCommandParser.parse(line: bytes(cmd.line)) == cmd)
    }

    @Test func utf8OrcptInSMTPUTF8Transaction() throws {
        let cmd = try SMTPCommandParser.parse(
            line: bytes(Self.to + " ORCPT=utf-8;ø@example.org"),
            options: SMTPParserOptions(smtputf8: true)
        )
        #expect(
            cmd
                == .rcpt(
                    .mailbox(mailbox("b", "example.org")),
                    rcptParams {
                        $0.orcpt = OriginalRecipient(addressType: "utf-8", address: "ø@example.org")
                    }
                )
        )
    }

    @Test func postmasterWithParameters() throws {
        let cmd = try SMTPCommandParser.parse(line: bytes("RCPT TO:<postmaster> NOTIFY=NEVER"))
        #expect(cmd == .rcpt(.postmaster, rcptParams { $0.notify = .never }))
    }
}

@Suite struct XtextTests {
    // RFC 3461 4
    @Test(arguments: [
        ("abc", "abc"),
        ("a+2Bb", "a+b"),
        ("a+3Db", "a=b"),
        ("+20", " "),
        ("+c3+a9", "é"),
        ("", ""),
    ])
    func decodes(input: String, expected: String) throws {
        #expect(try Xtext.decode(bytes(input)) == expected)
    }

    @Test(arguments: [
        ("a b", Xtext.DecodeError.invalidCharacter(offset: 1)),
        ("a=b", Xtext.DecodeError.invalidCharacter(offset: 1)),
        ("+4", Xtext.DecodeError.invalidHexEscape(offset: 0)),
        ("ab+G0", Xtext.DecodeError.invalidHexEscape(offset: 2)),
        ("+FF", Xtext.DecodeError.invalidUTF8),
    ])
    func rejects(input: String, expected: Xtext.DecodeError) {
        #expect(throws: expected) { try Xtext.decode(bytes(input)) }
    }

    @Test func utf8OnlyWhenAllowed() throws {
        #expect(throws: Xtext.DecodeError.invalidCharacter(offset: 1)) { try Xtext.decode(bytes("jø")) }
        #expect(try Xtext.decode(bytes("jø"), allowUTF8: true) == "jø")
    }

    @Test(arguments: ["plain", "a+b=c d", "jøran@møx.example", "+++", "\u{1}"])
    func roundTrip(s: String) throws {
        #expect(try Xtext.decode(bytes(Xtext.encode(s))) == s)
    }

    @Test func encodesSpecials() {
        #expect(Xtext.encode("a+b=c d") == "a+2Bb+3Dc+20d")
    }
}
