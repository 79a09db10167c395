import MailAddress
import Testing

@Suite struct PunycodeTests {
    /// Unicode label and its Punycode (RFC 3492 7.1 samples and common domains).
    @Test(
        arguments: [
            ("bücher", "bcher-kva"),
            ("münchen", "mnchen-3ya"),
            ("例え", "r8jz45g"),
            ("ليهمابتكلموشعربي؟", "egbpdaj6bu4bxfgehfvwxn"),
            ("他们为什么不说中文", "ihqwcrb4cv8a8dqg056pqjye"),
            ("abc", "abc-"),
            ("ü", "tda"),
        ]
    )
    func roundTrip(unicode: String, encoded: String) {
        #expect(Punycode.encode(unicode) == encoded)
        #expect(Punycode.decode(encoded) == unicode)
    }

    @Test(arguments: ["99999999999", "zzzzzzzzzzzzzzzzzzzzzzzz", "a-!", "-é"])
    func malformedDoesNotTrap(input: String) {
        _ = Punycode.decode(input)
    }
}

@Suite struct DomainTests {
    /// Input, ASCII form, Unicode form; nil when it must be rejected.
    @Test(
        arguments: [
            ("Example.COM", "example.com", "example.com"),
            ("example.com.", "example.com", "example.com"),
            ("bücher.example", "xn--bcher-kva.example", "bücher.example"),
            ("BÜCHER.example", "xn--bcher-kva.example", "bücher.example"),
            ("xn--bcher-kva.Example", "xn--bcher-kva.example", "bücher.example"),
            ("_dmarc.example.org", "_dmarc.example.org", "_dmarc.example.org"),
        ] as [(String, String, String)]
    )
    func valid(input: String, ascii: String, unicode: String) throws {
        let d = try Domain(parsing: input)
        #expect(d.ascii == ascii)
        #expect(d.unicode == unicode)
        #expect(try Domain(parsing: d.unicode) == d)
        #expect(try Domain(parsing: d.ascii) == d)
    }

    @Test(
        arguments: [
            "", ".", "a..b", "-a.example", "a-.example", "a b.example", "xn--zz!.example",
            String(repeating: "a", count: 64) + ".example",
            Array(repeating: "abcdefghi", count: 26).joined(separator: "."),
            "xn--a.example",
        ]
    )
    func invalid(input: String) {
        #expect(Domain.parse(input) == nil)
    }
}

@Suite struct AddressParseTests {
    /// Input, localpart value, domain ASCII, formatted form.
    @Test(
        arguments: [
            ("user@example.org", "user", "example.org", "user@example.org"),
            ("first.last@EXAMPLE.org", "first.last", "example.org", "first.last@example.org"),
            ("\"john doe\"@example.org", "john doe", "example.org", "\"john doe\"@example.org"),
            ("\"a\\\"b\"@example.org", "a\"b", "example.org", "\"a\\\"b\"@example.org"),
            ("\"a@b\"@example.org", "a@b", "example.org", "\"a@b\"@example.org"),
            ("\"dot.atom\"@example.org", "dot.atom", "example.org", "dot.atom@example.org"),
            ("\"a..b\"@example.org", "a..b", "example.org", "\"a..b\"@example.org"),
            ("用户@例子.广告", "用户", "xn--fsqu00a.xn--4rr70v", "用户@xn--fsqu00a.xn--4rr70v"),
            ("x+tag@münchen.de", "x+tag", "xn--mnchen-3ya.de", "x+tag@xn--mnchen-3ya.de"),
        ] as [(String, String, String, String)]
    )
    func parse(input: String, localpart: String, domain: String, formatted: String) throws {
        let a = try Address(parsing: input)
        #expect(a.localpart.value == localpart)
        #expect(a.domain.ascii == domain)
        #expect(a.formatted == formatted)
        // Round trip: parse(format(x)) == x, in both domain forms.
        #expect(try Address(parsing: a.formatted) == a)
        #expect(try Address(parsing: a.formattedUnicode) == a)
    }

    @Test(
        arguments: [
            "", "@example.org", "user", "user@", "a..b@example.org", ".a@example.org", "a.@example.org",
            "\"unterminated@example.org", "a b@example.org", "user@exa mple.org",
            String(repeating: "x", count: 65) + "@example.org", "\"\u{7f}\"@example.org",
        ]
    )
    func invalid(input: String) {
        #expect(Address.parse(input) == nil)
    }

    /// Localpart values that need quoting, and ones that don't, survive formatting and parsing.
    @Test(arguments: ["simple", "a.b", "with space", "back\\slash", "q\"uote", "ünïcode", ".lead", "trail.", "a,b"])
    func localpartRoundTrip(value: String) throws {
        let lp = Localpart(uncheckedValue: value)
        #expect(try Localpart(parsing: lp.formatted) == lp)
    }
}

@Suite struct PathTests {
    @Test(
        arguments: [
            ("<>", nil),
            ("<user@example.org>", "user@example.org"),
            ("<@a.example,@b.example:user@example.org>", "user@example.org"),
            ("<\"quoted user\"@Example.org>", "\"quoted user\"@example.org"),
        ] as [(String, String?)]
    )
    func parse(input: String, address: String?) throws {
        let p = try Path(parsing: input)
        #expect(p.address?.formatted == address)
        #expect(try Path(parsing: p.formatted) == p)
    }

    @Test(arguments: ["", "<", "user@example.org", "<user@example.org", "<@a.example:>", "<@:user@example.org>"])
    func invalid(input: String) {
        #expect(throws: Path.ParseError.self) { try Path(parsing: input) }
    }

    @Test func null() {
        #expect(Path.null.formatted == "<>")
        #expect(Path.null.isNull)
    }
}

@Suite struct AddressLimitTests {
    @Test func hugeLabelsAreRejectedQuickly() {
        #expect(Domain.parse(String(repeating: "ü", count: 100_000) + ".example") == nil)
        #expect(Domain.parse("xn--" + String(repeating: "a", count: 100_000)) == nil)
        #expect(Punycode.encode(String(repeating: "ü", count: 100_000)) == nil)
        #expect(Punycode.decode(String(repeating: "a", count: 100_000)) == nil)
        #expect(Address.parse(String(repeating: "a", count: 100_000) + "@example.org") == nil)
    }
}
