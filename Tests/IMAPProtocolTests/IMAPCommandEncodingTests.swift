import IMAPProtocol
import Testing

/// parse(encode(x)) == x over every command in the parser tables, with and without UTF8=ACCEPT.
@Suite struct IMAPCommandEncodingTests {
    static var commands: [IMAPCommandKind] {
        IMAPCommandParserTests.ok.map(\.1).filter {
            if case .unknown = $0 { return false }
            return true
        } + (IMAPCommandParserTests.search + [IMAPCommandParserTests.savedDate]).map { .search($0.1) }
            + IMAPCommandParserTests.fetch.map { .fetch($0.1) }
            + [
                .login(username: "with space", password: "multi\r\nline"),
                .select(mailbox: "台北/日本語 & more", parameters: []),
                .search(
                    IMAPSearchCommand(
                        uid: false,
                        key: .and([
                            .not(.and([.seen, .flagged])), .or(.subject("a \"b\""), .header(field: "X", value: "")),
                        ])
                    )
                ),
                .list(IMAPListCommand(reference: "a&b", patterns: ["%", "Ä*"])),
                .id([IMAPIDParameter("k", "NIL")]),
                .store(IMAPStoreCommand(uid: true, set: .searchResult, mode: .replace, silent: false, flags: [])),
            ]
    }

    @Test(arguments: commands)
    func roundTrip(kind: IMAPCommandKind) throws {
        for utf8 in [false, true] {
            let command = IMAPCommand(tag: "t1", kind)
            let wire = command.encoded(utf8Accept: utf8)
            var r = IMAPFrameReader()
            r.append(wire)
            var parsed: IMAPCommand?
            loop: while true {
                switch r.next() {
                case .frame(let f):
                    parsed = try IMAPCommandParser.parse(f, options: IMAPParserOptions(utf8Accept: utf8))
                    break loop
                case .sendContinuation, .literalStart, .literalData: continue
                case .needMoreData, .error: break loop
                }
            }
            #expect(parsed == command, "\(String(decoding: wire, as: UTF8.self))")
            #expect(r.bufferedCount == 0)
        }
    }

    @Test func wireForm() {
        let c = IMAPCommand(tag: "a", .login(username: "user", password: "p w"))
        #expect(String(decoding: c.encoded(), as: UTF8.self) == "a LOGIN user \"p w\"\r\n")
        let f = IMAPCommand(
            tag: "b",
            .fetch(
                IMAPFetchCommand(
                    uid: true,
                    set: seq("1:*"),
                    attributes: [.flags, .bodySection(IMAPSection(part: [1], text: .mime), partial: nil, peek: true)]
                )
            )
        )
        #expect(String(decoding: f.encoded(), as: UTF8.self) == "b UID FETCH 1:* (FLAGS BODY.PEEK[1.MIME])\r\n")
    }
}
