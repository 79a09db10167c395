import IMAPProtocol
import Testing

/// Frames `input` (lines separated by CRLF, literals inline) with the frame reader.
func frame(_ input: String) -> IMAPFrame? {
    var r = IMAPFrameReader()
    r.append(Array((input + "\r\n").utf8))
    while true {
        switch r.next() {
        case .frame(let f): return f
        case .sendContinuation, .literalStart, .literalData: continue
        case .needMoreData, .error: return nil
        }
    }
}

func parse(_ input: String, utf8: Bool = false) throws(IMAPParseError) -> IMAPCommand {
    guard let f = frame(input) else { throw IMAPParseError(reason: "no frame") }
    return try IMAPCommandParser.parse(f, options: IMAPParserOptions(utf8Accept: utf8))
}

func seq(_ s: String) -> IMAPSequenceSet {
    (try? IMAPSequenceSet.parse(s)) ?? .searchResult
}

@Suite struct IMAPCommandParserTests {
    static let ok: [(String, IMAPCommandKind)] = [
        ("a CAPABILITY", .capability),
        ("a noop", .noop),
        ("a LOGOUT", .logout),
        ("a STARTTLS", .starttls),
        ("a IDLE", .idle),
        ("a NAMESPACE", .namespace),
        ("a CHECK", .check),
        ("a CLOSE", .close),
        ("a UNSELECT", .unselect),
        ("a EXPUNGE", .expunge),
        ("a UID EXPUNGE 1:3,5", .uidExpunge(seq("1:3,5"))),
        ("a AUTHENTICATE plain", .authenticate(mechanism: "PLAIN", initialResponse: nil)),
        ("a AUTHENTICATE PLAIN AGEAYg==", .authenticate(mechanism: "PLAIN", initialResponse: "AGEAYg==")),
        ("a AUTHENTICATE PLAIN =", .authenticate(mechanism: "PLAIN", initialResponse: "=")),
        ("a LOGIN user pass", .login(username: "user", password: "pass")),
        ("a LOGIN \"us er\" \"p\\\"a\\\\ss\"", .login(username: "us er", password: "p\"a\\ss")),
        ("a LOGIN {4}\r\nuser {5+}\r\np ass", .login(username: "user", password: "p ass")),
        ("a LOGIN user] pa]ss", .login(username: "user]", password: "pa]ss")),
        ("a ENABLE utf8=accept CONDSTORE", .enable(["UTF8=ACCEPT", "CONDSTORE"])),
        ("a SELECT inbox", .select(mailbox: "INBOX", parameters: [])),
        ("a EXAMINE \"Archive\"", .examine(mailbox: "Archive", parameters: [])),
        ("a SELECT &ZeVnLIqe-", .select(mailbox: "日本語", parameters: [])),
        ("a SELECT INBOX (CONDSTORE)", .select(mailbox: "INBOX", parameters: [.condstore])),
        (
            "a SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))",
            .select(
                mailbox: "INBOX",
                parameters: [
                    .qresync(
                        uidValidity: 67_890_007,
                        modSeq: 20_050_715_194_045_000,
                        knownUIDs: seq("41,43:211,214:541"),
                        sequenceMatch: nil
                    )
                ]
            )
        ),
        (
            "a EXAMINE INBOX (QRESYNC (1 2 1:5 (1:2 3:4)))",
            .examine(
                mailbox: "INBOX",
                parameters: [
                    .qresync(
                        uidValidity: 1,
                        modSeq: 2,
                        knownUIDs: seq("1:5"),
                        sequenceMatch: IMAPQResyncSequenceMatch(sequenceNumbers: seq("1:2"), uids: seq("3:4"))
                    )
                ]
            )
        ),
        ("a CREATE foo/bar", .create(mailbox: "foo/bar", specialUse: [])),
        ("a CREATE Sent (USE (\\Sent))", .create(mailbox: "Sent", specialUse: ["\\Sent"])),
        ("a DELETE x", .delete(mailbox: "x")),
        ("a RENAME a b", .rename(from: "a", to: "b")),
        ("a SUBSCRIBE x", .subscribe(mailbox: "x")),
        ("a UNSUBSCRIBE x", .unsubscribe(mailbox: "x")),
        ("a LIST \"\" *", .list(IMAPListCommand(reference: "", patterns: ["*"]))),
        ("a LIST \"\" %/x]", .list(IMAPListCommand(reference: "", patterns: ["%/x]"]))),
        ("a LSUB \"\" \"*\"", .lsub(reference: "", pattern: "*")),
        (
            "a LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (INBOX \"Sent\" %) RETURN (CHILDREN special-use STATUS (MESSAGES UNSEEN))",
            .list(
                IMAPListCommand(
                    selectionOptions: ["SUBSCRIBED", "RECURSIVEMATCH"],
                    reference: "",
                    patterns: ["INBOX", "Sent", "%"],
                    returnOptions: [.children, .specialUse, .status([.messages, .unseen])]
                )
            )
        ),
        ("a LIST () \"\" * RETURN ()", .list(IMAPListCommand(reference: "", patterns: ["*"]))),
        (
            "a STATUS blurdybloop (UIDNEXT MESSAGES size highestmodseq APPENDLIMIT deleted-storage)",
            .status(
                mailbox: "blurdybloop",
                attributes: [.uidNext, .messages, .size, .highestModSeq, .appendLimit, .deletedStorage]
            )
        ),
        (
            "a APPEND saved-messages (\\Seen) \"05-Jul-2024 02:44:25 -0700\" {5}\r\nhello",
            .append(
                mailbox: "saved-messages",
                messages: [
                    IMAPAppendMessage(
                        flags: ["\\Seen"],
                        internalDate: IMAPDateTime(
                            date: IMAPDate(year: 2024, month: 7, day: 5),
                            hour: 2,
                            minute: 44,
                            second: 25,
                            zoneMinutes: -420
                        ),
                        data: Array("hello".utf8)
                    )
                ]
            )
        ),
        (
            "a APPEND x \" 5-Jul-2024 02:44:25 +0130\" {1+}\r\na ~{2+}\r\nb\0 () {1+}\r\nc",
            .append(
                mailbox: "x",
                messages: [
                    IMAPAppendMessage(
                        internalDate: IMAPDateTime(
                            date: IMAPDate(year: 2024, month: 7, day: 5),
                            hour: 2,
                            minute: 44,
                            second: 25,
                            zoneMinutes: 90
                        ),
                        data: [UInt8(ascii: "a")]
                    ),
                    IMAPAppendMessage(data: [UInt8(ascii: "b"), 0], binary: true),
                    IMAPAppendMessage(data: [UInt8(ascii: "c")]),
                ]
            )
        ),
        (
            "a APPEND x UTF8 (~{2}\r\nab) (\\Seen) utf8 (~{1+}\r\nc)",
            .append(
                mailbox: "x",
                messages: [
                    IMAPAppendMessage(data: Array("ab".utf8), binary: true, utf8: true),
                    IMAPAppendMessage(flags: ["\\Seen"], data: Array("c".utf8), binary: true, utf8: true),
                ]
            )
        ),
        (
            "a UID REPLACE 25 INBOX (\\Seen) {3+}\r\nabc",
            .replace(
                uid: true,
                number: 25,
                mailbox: "INBOX",
                message: IMAPAppendMessage(flags: ["\\Seen"], data: Array("abc".utf8))
            )
        ),
        (
            "a REPLACE 1 x ~{1}\r\n\0",
            .replace(uid: false, number: 1, mailbox: "x", message: IMAPAppendMessage(data: [0], binary: true))
        ),
        (
            "a GETMETADATA \"\" /shared/comment",
            .getMetadata(mailbox: "", options: IMAPMetadataOptions(), entries: ["/shared/comment"])
        ),
        (
            "a GETMETADATA (MAXSIZE 1024 DEPTH infinity) INBOX (/private/comment /shared/x)",
            .getMetadata(
                mailbox: "INBOX",
                options: IMAPMetadataOptions(maxSize: 1024, depth: .infinity),
                entries: ["/private/comment", "/shared/x"]
            )
        ),
        (
            "a SETMETADATA INBOX (/private/comment \"My comment\" /shared/x NIL /shared/y ~{2}\r\na\0)",
            .setMetadata(
                mailbox: "INBOX",
                entries: [
                    IMAPMetadataEntry(name: "/private/comment", value: Array("My comment".utf8)),
                    IMAPMetadataEntry(name: "/shared/x", value: nil),
                    IMAPMetadataEntry(name: "/shared/y", value: [UInt8(ascii: "a"), 0]),
                ]
            )
        ),
        (
            "a ESEARCH IN (mailboxes \"folder1\" subtree-one (folder2 x)) UNSEEN",
            .esearch(
                sources: [.mailboxes(["folder1"]), .subtreeOne(["folder2", "x"])],
                IMAPSearchCommand(uid: false, key: .unseen)
            )
        ),
        (
            "a ESEARCH IN (personal SELECTED) RETURN (COUNT) SEEN",
            .esearch(
                sources: [.personal, .selected],
                IMAPSearchCommand(uid: false, returnOptions: [.count], key: .seen)
            )
        ),
        ("a ESEARCH ALL", .esearch(sources: [], IMAPSearchCommand(uid: false, key: .all))),
        ("a NOTIFY NONE", .notify(nil)),
        (
            "a NOTIFY SET STATUS (selected (MessageNew (UID BODY.PEEK[HEADER.FIELDS (From)]) MessageExpunge)) (subtree Lists (MailboxName)) (inboxes NONE)",
            .notify(
                IMAPNotifyCommand(
                    status: true,
                    groups: [
                        IMAPNotifyEventGroup(
                            source: .selected,
                            events: [
                                .messageNew([
                                    .uid,
                                    .bodySection(IMAPSection(text: .headerFields(["From"])), partial: nil, peek: true),
                                ]),
                                .messageExpunge,
                            ]
                        ),
                        IMAPNotifyEventGroup(source: .subtree(["Lists"]), events: [.mailboxName]),
                        IMAPNotifyEventGroup(source: .inboxes, events: []),
                    ]
                )
            )
        ),
        (
            "a NOTIFY SET (personal (MessageNew FlagChange x-Custom))",
            .notify(
                IMAPNotifyCommand(
                    status: false,
                    groups: [
                        IMAPNotifyEventGroup(
                            source: .personal,
                            events: [.messageNew([]), .flagChange, .other("x-Custom")]
                        )
                    ]
                )
            )
        ),
        ("a ID NIL", .id(nil)),
        (
            "a ID (\"name\" \"sodr\" \"version\" NIL)",
            .id([IMAPIDParameter("name", "sodr"), IMAPIDParameter("version", nil)])
        ),
        ("a GETQUOTA \"\"", .getQuota(root: "")),
        ("a GETQUOTAROOT INBOX", .getQuotaRoot(mailbox: "INBOX")),
        ("a COMPRESS deflate", .compress(mechanism: "DEFLATE")),
        ("a COPY 2:4 MEETING", .copy(uid: false, set: seq("2:4"), mailbox: "MEETING")),
        ("a UID MOVE 1:* Trash", .move(uid: true, set: seq("1:*"), mailbox: "Trash")),
        ("a MOVE $ Trash", .move(uid: false, set: .searchResult, mailbox: "Trash")),
        (
            "a STORE 2:4 +FLAGS (\\Deleted)",
            .store(IMAPStoreCommand(uid: false, set: seq("2:4"), mode: .add, silent: false, flags: ["\\Deleted"]))
        ),
        (
            "a UID STORE 1 (UNCHANGEDSINCE 12) -flags.silent \\Seen $Junk",
            .store(
                IMAPStoreCommand(
                    uid: true,
                    set: seq("1"),
                    unchangedSince: 12,
                    mode: .remove,
                    silent: true,
                    flags: ["\\Seen", "$Junk"]
                )
            )
        ),
        (
            "a STORE 1 FLAGS ()",
            .store(IMAPStoreCommand(uid: false, set: seq("1"), mode: .replace, silent: false, flags: []))
        ),
        ("a XYZZY some args {3}\r\nabc", .unknown("XYZZY")),
    ]

    @Test(arguments: ok)
    func parses(input: String, kind: IMAPCommandKind) throws {
        #expect(try parse(input) == IMAPCommand(tag: "a", kind))
    }

    static let search: [(String, IMAPSearchCommand)] = [
        ("a SEARCH ALL", IMAPSearchCommand(uid: false, key: .all)),
        (
            "a SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"",
            IMAPSearchCommand(
                uid: false,
                key: .and([.flagged, .since(IMAPDate(year: 1994, month: 2, day: 1)), .not(.from("Smith"))])
            )
        ),
        (
            "a UID SEARCH RETURN (MIN COUNT save) CHARSET utf-8 OR (SEEN 1:3) UID 5:* LARGER 100",
            IMAPSearchCommand(
                uid: true,
                returnOptions: [.min, .count, .save],
                charset: "UTF-8",
                key: .and([.or(.and([.seen, .sequenceSet(seq("1:3"))]), .uid(seq("5:*"))), .larger(100)])
            )
        ),
        (
            "a SEARCH RETURN () HEADER Message-ID {5}\r\n<x@y> SENTON \"5-Jul-2024\" MODSEQ \"/flags/\\\\draft\" all 620162338",
            IMAPSearchCommand(
                uid: false,
                returnOptions: [],
                key: .and([
                    .header(field: "Message-ID", value: "<x@y>"), .sentOn(IMAPDate(year: 2024, month: 7, day: 5)),
                    .modSeq(620_162_338),
                ])
            )
        ),
        (
            "a SEARCH KEYWORD $Forwarded UNKEYWORD x $ (ANSWERED) YOUNGER 60 SMALLER 5 TEXT x BODY y",
            IMAPSearchCommand(
                uid: false,
                key: .and([
                    .keyword("$Forwarded"), .unkeyword("x"), .sequenceSet(.searchResult), .answered, .younger(60),
                    .smaller(5), .text("x"), .body("y"),
                ])
            )
        ),
    ]

    @Test(arguments: search + [savedDate])
    func parsesSearch(input: String, command: IMAPSearchCommand) throws {
        #expect(try parse(input) == IMAPCommand(tag: "a", .search(command)))
    }

    static let savedDate: (String, IMAPSearchCommand) = (
        "a SEARCH SAVEDBEFORE 1-Jan-2020 SAVEDON 2-Jan-2020 SAVEDSINCE 3-Jan-2020 SAVEDATESUPPORTED",
        IMAPSearchCommand(
            uid: false,
            key: .and([
                .savedBefore(IMAPDate(year: 2020, month: 1, day: 1)), .savedOn(IMAPDate(year: 2020, month: 1, day: 2)),
                .savedSince(IMAPDate(year: 2020, month: 1, day: 3)), .savedDateSupported,
            ])
        )
    )

    static let fetch: [(String, IMAPFetchCommand)] = [
        (
            "a FETCH 1 ALL",
            IMAPFetchCommand(uid: false, set: seq("1"), attributes: [.flags, .internalDate, .rfc822Size, .envelope])
        ),
        (
            "a FETCH 1 fast",
            IMAPFetchCommand(uid: false, set: seq("1"), attributes: [.flags, .internalDate, .rfc822Size])
        ),
        (
            "a FETCH 1 FULL",
            IMAPFetchCommand(
                uid: false,
                set: seq("1"),
                attributes: [.flags, .internalDate, .rfc822Size, .envelope, .body]
            )
        ),
        ("a FETCH 2:4 FLAGS", IMAPFetchCommand(uid: false, set: seq("2:4"), attributes: [.flags])),
        (
            "a UID FETCH 1:* (UID RFC822.SIZE BODYSTRUCTURE BODY ENVELOPE MODSEQ SAVEDATE PREVIEW RFC822 RFC822.HEADER RFC822.TEXT INTERNALDATE)",
            IMAPFetchCommand(
                uid: true,
                set: seq("1:*"),
                attributes: [
                    .uid, .rfc822Size, .bodyStructure, .body, .envelope, .modSeq, .saveDate, .preview(lazy: false),
                    .rfc822, .rfc822Header, .rfc822Text, .internalDate,
                ]
            )
        ),
        (
            "a FETCH 1 (BODY[] BODY.PEEK[HEADER]<0.100> BODY[1.2.MIME] BODY[2.TEXT] BODY[3])",
            IMAPFetchCommand(
                uid: false,
                set: seq("1"),
                attributes: [
                    .bodySection(IMAPSection(), partial: nil, peek: false),
                    .bodySection(IMAPSection(text: .header), partial: IMAPPartial(offset: 0, length: 100), peek: true),
                    .bodySection(IMAPSection(part: [1, 2], text: .mime), partial: nil, peek: false),
                    .bodySection(IMAPSection(part: [2], text: .text), partial: nil, peek: false),
                    .bodySection(IMAPSection(part: [3]), partial: nil, peek: false),
                ]
            )
        ),
        (
            "a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From \"To\")] BODY[1.HEADER.FIELDS.NOT (Received)])",
            IMAPFetchCommand(
                uid: false,
                set: seq("1"),
                attributes: [
                    .bodySection(IMAPSection(text: .headerFields(["From", "To"])), partial: nil, peek: true),
                    .bodySection(
                        IMAPSection(part: [1], text: .headerFieldsNot(["Received"])),
                        partial: nil,
                        peek: false
                    ),
                ]
            )
        ),
        (
            "a FETCH 1 (BINARY[1] BINARY.PEEK[]<5.10> BINARY.SIZE[2.1] PREVIEW (LAZY))",
            IMAPFetchCommand(
                uid: false,
                set: seq("1"),
                attributes: [
                    .binary(part: [1], partial: nil, peek: false),
                    .binary(part: [], partial: IMAPPartial(offset: 5, length: 10), peek: true),
                    .binarySize(part: [2, 1]), .preview(lazy: true),
                ]
            )
        ),
        (
            "a UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)",
            IMAPFetchCommand(uid: true, set: seq("300:500"), attributes: [.flags], changedSince: 12345, vanished: true)
        ),
    ]

    @Test(arguments: fetch)
    func parsesFetch(input: String, command: IMAPFetchCommand) throws {
        #expect(try parse(input) == IMAPCommand(tag: "a", .fetch(command)))
    }

    static let bad: [(String, IMAPParseError)] = [
        ("", IMAPParseError(reason: "missing or invalid tag")),
        ("+a NOOP", IMAPParseError(reason: "missing or invalid tag")),
        ("a", IMAPParseError(tag: "a", reason: "expected space")),
        ("a ", IMAPParseError(tag: "a", reason: "missing command")),
        ("a NOOP x", IMAPParseError(tag: "a", reason: "unexpected data at end of command")),
        ("a LOGIN user", IMAPParseError(tag: "a", reason: "expected space")),
        ("a LOGIN \"us\\er\" x", IMAPParseError(tag: "a", reason: "bad escape in quoted string")),
        ("a LOGIN \"user x", IMAPParseError(tag: "a", reason: "unterminated quoted string")),
        ("a LOGIN \"üser\" x", IMAPParseError(tag: "a", reason: "8-bit data in quoted string")),
        ("a LOGIN {1}\r\n\0 x", IMAPParseError(tag: "a", reason: "NUL in literal")),
        ("a SELECT &Jjo", IMAPParseError(tag: "a", reason: "mailbox name is not valid modified UTF-7", invalidMailboxName: true)),
        ("a SELECT INBOX ()", IMAPParseError(tag: "a", reason: "empty list")),
        ("a STATUS x (FOO)", IMAPParseError(tag: "a", reason: "unknown status attribute")),
        ("a STATUS x ()", IMAPParseError(tag: "a", reason: "empty list")),
        ("a FETCH 0 FLAGS", IMAPParseError(tag: "a", reason: "bad sequence number")),
        ("a FETCH 1 (FLAGS", IMAPParseError(tag: "a", reason: "expected space")),
        ("a FETCH 1 BODY[MIME]", IMAPParseError(tag: "a", reason: "MIME needs a part number")),
        ("a FETCH 1 BODY[1.FOO]", IMAPParseError(tag: "a", reason: "bad section")),
        ("a FETCH 1 BODY.PEEK", IMAPParseError(tag: "a", reason: "expected section after BODY.PEEK")),
        ("a FETCH 1 BODY[]<1.0>", IMAPParseError(tag: "a", reason: "partial length must not be zero")),
        ("a FETCH 1 FOO", IMAPParseError(tag: "a", reason: "unknown fetch attribute FOO")),
        (
            "a FETCH 1 FLAGS (VANISHED)",
            IMAPParseError(tag: "a", reason: "VANISHED requires UID FETCH with CHANGEDSINCE")
        ),
        ("a SEARCH", IMAPParseError(tag: "a", reason: "expected space")),
        ("a SEARCH FOO", IMAPParseError(tag: "a", reason: "unknown search key FOO")),
        ("a SEARCH SINCE 1-Foo-2000", IMAPParseError(tag: "a", reason: "bad month")),
        ("a SEARCH SINCE 32-Jan-2000", IMAPParseError(tag: "a", reason: "bad day")),
        ("a SEARCH OR SEEN", IMAPParseError(tag: "a", reason: "expected space")),
        ("a SEARCH RETURN (FOO) ALL", IMAPParseError(tag: "a", reason: "unknown return option")),
        ("a STORE 1 FLAG (x)", IMAPParseError(tag: "a", reason: "expected FLAGS")),
        ("a UID FOO 1", IMAPParseError(tag: "a", reason: "unknown UID command")),
        ("a APPEND x", IMAPParseError(tag: "a", reason: "expected message literal")),
        ("a APPEND x \"5-Jul-2024 02:44:25 -0700\" {1}\r\na", IMAPParseError(tag: "a", reason: "bad day")),
        ("a APPEND x (\\Seen) \"hello\"", IMAPParseError(tag: "a", reason: "bad day")),
        ("a LOGIN {1} x", IMAPParseError(tag: "a", reason: "bad literal")),
        // "~" is an astring character; literal8 is not an astring.
        ("a LOGIN ~{1}\r\nx y", IMAPParseError(tag: "a", reason: "expected space")),
        ("a LOGIN x{1}\r\na y", IMAPParseError(tag: "a", reason: "expected space")),
        ("a LOGIN {x {1}\r\na y", IMAPParseError(tag: "a", reason: "bad literal")),
        (
            "a UID FETCH 1 FLAGS (CHANGEDSINCE 99999999999999999999)",
            IMAPParseError(tag: "a", reason: "modseq too large")
        ),
        ("a APPEND x UTF8 ({1}\r\na)", IMAPParseError(tag: "a", reason: "expected literal8 after UTF8")),
        ("a REPLACE 0 x {1}\r\na", IMAPParseError(tag: "a", reason: "sequence number must not be zero")),
        ("a REPLACE 1 x (\\Seen)", IMAPParseError(tag: "a", reason: "expected space")),
        ("a GETMETADATA (DEPTH 2) x y", IMAPParseError(tag: "a", reason: "bad DEPTH")),
        ("a SETMETADATA x ()", IMAPParseError(tag: "a", reason: "empty list")),
        ("a ESEARCH IN (nowhere) ALL", IMAPParseError(tag: "a", reason: "unknown mailbox filter")),
        ("a NOTIFY SET", IMAPParseError(tag: "a", reason: "expected event group")),
        ("a NOTIFY SET (subtree-one x (MailboxName))", IMAPParseError(tag: "a", reason: "unknown mailbox filter")),
        ("a NOTIFY GET", IMAPParseError(tag: "a", reason: "expected SET or NONE")),
        ("a ESEARCH IN (inboxes (x)) ALL", IMAPParseError(tag: "a", reason: "unsupported scope options")),
        ("a CREATE x (FOO (bar))", IMAPParseError(tag: "a", reason: "unknown CREATE parameter")),
    ]

    @Test(arguments: bad)
    func refuses(input: String, error: IMAPParseError) {
        #expect(throws: error) { try parse(input) }
    }

    @Test func utf8Accept() throws {
        #expect(
            try parse("a SELECT \"Entwürfe\"", utf8: true)
                == IMAPCommand(tag: "a", .select(mailbox: "Entwürfe", parameters: []))
        )
        // With UTF8=ACCEPT names are not modified UTF-7.
        #expect(try parse("a SELECT &-", utf8: true) == IMAPCommand(tag: "a", .select(mailbox: "&-", parameters: [])))
        #expect(throws: IMAPParseError(tag: "a", reason: "invalid UTF-8 in quoted string")) {
            try IMAPCommandParser.parse(
                IMAPFrame(lines: [Array("a SELECT \"".utf8) + [0xff] + [UInt8(ascii: "\"")]], literals: []),
                options: IMAPParserOptions(utf8Accept: true)
            )
        }
    }

    @Test func nestingLimit() {
        let deep = "a SEARCH " + String(repeating: "NOT ", count: 200) + "ALL"
        #expect(throws: IMAPParseError(tag: "a", reason: "search keys nested too deeply")) { try parse(deep) }
        let parens = "a SEARCH " + String(repeating: "(", count: 200) + "ALL" + String(repeating: ")", count: 200)
        #expect(throws: IMAPParseError(tag: "a", reason: "search keys nested too deeply")) { try parse(parens) }
    }

    @Test func idleDone() {
        #expect(IMAPCommandParser.isIdleDone(Array("done".utf8)))
        #expect(!IMAPCommandParser.isIdleDone(Array("DONE x".utf8)))
    }
}
