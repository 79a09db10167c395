import MailAddress
import MailMessage
import Testing

@Suite struct AddressListTests {
    static func m(_ name: String, _ lp: String, _ d: String, route: String = "") -> AddressListItem {
        .mailbox(MessageAddress(name: name, route: route, localpart: lp, domain: d))
    }

    @Test(
        arguments: [
            ("john@example.org", [m("", "john", "example.org")]),
            ("John Doe <john@example.org>", [m("John Doe", "john", "example.org")]),
            ("\"Doe, John\" <john@example.org>", [m("Doe, John", "john", "example.org")]),
            ("a@x.test, b@y.test", [m("", "a", "x.test"), m("", "b", "y.test")]),
            // RFC 5322 A.1.3: group syntax.
            (
                "A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
                [
                    .group(
                        name: "A Group",
                        members: [
                            MessageAddress(name: "Ed Jones", localpart: "c", domain: "a.test"),
                            MessageAddress(localpart: "joe", domain: "where.test"),
                            MessageAddress(name: "John", localpart: "jdoe", domain: "one.test"),
                        ]
                    )
                ]
            ),
            ("Undisclosed recipients:;", [.group(name: "Undisclosed recipients", members: [])]),
            // RFC 5322 A.5: comments and white space.
            (
                "Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
                [m("Pete", "pete", "silly.test")]
            ),
            ("jdoe@machine(comment).  example", [m("", "jdoe", "machine.example")]),
            // RFC 822 6.1 style: a trailing comment is the only name there is.
            ("user@domain (Real Name)", [m("Real Name", "user", "domain")]),
            // RFC 5322 A.6.1: obsolete syntax, route.
            (
                "Joe Q. Public <@a.test,@b.test:john.q.public@example.com>",
                [m("Joe Q. Public", "john.q.public", "example.com", route: "@a.test,@b.test")]
            ),
            ("\"quoted local\"@example.org", [m("", "quoted local", "example.org")]),
            ("=?UTF-8?Q?J=C3=BCrgen?= <j@example.de>", [m("Jürgen", "j", "example.de")]),
            ("\"=?UTF-8?Q?J=C3=BCrgen?=\" <j@example.de>", [m("Jürgen", "j", "example.de")]),
            // RFC 6532: UTF-8 in addresses.
            ("Jöran <jöran@bücher.example>", [m("Jöran", "jöran", "bücher.example")]),
            ("<user@[192.0.2.1]>", [m("", "user", "[192.0.2.1]")]),
            ("Name Only <>", [m("Name Only", "", "")]),
            (",,, a@b.test ,,", [m("", "a", "b.test")]),
            ("", []),
        ] as [(String, [AddressListItem])]
    )
    func parse(input: String, expected: [AddressListItem]) {
        #expect(AddressList.parse(input) == expected)
    }

    @Test(arguments: [
        "<<<", ">>>", "\"unterminated", "a@", "@", ":;:;", "(((", "g: a@b.test", "x <y", "\\", "[[[", "a <b@c>>d",
    ])
    func garbageDoesNotTrap(input: String) {
        _ = AddressList.parse(input)
    }

    @Test func toAddress() {
        let items = AddressList.mailboxes("X <User@Bücher.Example>, broken@")
        #expect(items.count == 2)
        #expect(items[0].address?.formatted == "User@xn--bcher-kva.example")
        #expect(items[1].address == nil)
    }
}

@Suite struct DateTests {
    @Test(
        arguments: [
            ("Fri, 21 Nov 1997 09:55:06 -0600", 880_127_706),
            ("21 Nov 1997 09:55:06 -0600", 880_127_706),
            ("Fri, 21 Nov 1997 15:55:06 +0000", 880_127_706),
            ("Fri, 21 Nov 97 09:55:06 GMT", 880_106_106),
            ("Thu, 13 Feb 1969 23:32:54 -0330", -27_723_426),
            ("Thu,\r\n 13\r\n   Feb\r\n     1969\r\n 23:32\r\n  -0330 (Newfoundland Time)", -27_723_480),
            ("Fri, 21 Nov 1997 09:55:06 CST", 880_127_706),
            ("Fri, 21 Nov 1997 09:55:06 EST", 880_124_106),
            ("Fri, 21 Nov 1997 09:55:06 PDT", 880_131_306),
            ("Fri, 21 Nov 1997 09:55:06 Q", 880_106_106),
            ("1 Jan 2000 00:00:00", 946_684_800),
            ("1 jan 100 00:00:00 +0000", 946_684_800),
            ("Sat, 01 Jan 2000 00:00:60 +0000", 946_684_860),
            ("1-Jan-2000 00:00:00 +0000", 946_684_800),
            ("Mon, 29 Feb 2016 12:00:00 +0100", 1_456_743_600),
            ("Fri, 21 Nov 1997 09:55:06 -0600 (CST)", 880_127_706),
            ("Fri,21 Nov 1997 15:55:06 UT", 880_127_706),
            ("  Fri , 21 Nov 1997 15:55:06 +0000  ", 880_127_706),
            ("21 November 1997 15:55 +0000", 880_127_700),
        ] as [(String, Int64)]
    )
    func parse(input: String, unix: Int64) throws {
        let d = try #require(MessageDate(parsing: input))
        #expect(d.unixTime == unix)
    }

    @Test(arguments: [
        "", "garbage", "32 Jan 2000 00:00:00", "1 Foo 2000 00:00:00", "1 Jan 2000 24:00:00", "1 Jan 2000",
        "1 Jan 2000 1:99", "1 Jan 99999999999999999999 00:00", "Mon, 1 Jan 2000 00:00:00 +0099",
    ])
    func invalid(input: String) {
        #expect(MessageDate(parsing: input) == nil)
    }
}

@Suite struct MessageIDTests {
    @Test(
        arguments: [
            ("<1234@local.machine.example>", ["1234@local.machine.example"]),
            ("<a@b> <c@d>\r\n <e@f>", ["a@b", "c@d", "e@f"]),
            ("(comment) <a@b> phrase <c@d>", ["a@b", "c@d"]),
            ("\"<not@id>\" <a@b>", ["a@b"]),
            ("bare@id", ["bare@id"]),
            ("<unterminated@x", ["unterminated@x"]),
            ("", []),
        ] as [(String, [String])]
    )
    func parse(input: String, expected: [String]) {
        #expect(MessageIDs.parse(input) == expected)
    }
}
