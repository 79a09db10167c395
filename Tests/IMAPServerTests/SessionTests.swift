import Foundation
import IMAPServer
import MailStore
import NIOCore
import Testing

/// The server over loopback, driven by real protocol exchanges, over a store in a temporary directory.
@Suite struct SessionTests {
    @Test func greetingLoginAndLogout() async throws {
        let server = try await TestServer.start()
        let (greeting, bad, good, logout) = try await withClient(port: server.port) { c in
            let greeting = c.line()
            let bad = c.command("LOGIN mox@localhost wrong")
            let good = c.command("LOGIN mox@localhost secret")
            let logout = c.command("LOGOUT")
            return (greeting, bad, good, logout)
        }
        await server.stop()
        #expect(greeting?.hasPrefix("* OK [CAPABILITY IMAP4rev2 IMAP4rev1 ") == true)
        // RFC 5530 3: AUTHENTICATIONFAILED.
        #expect(bad.tagged == "t1 NO [AUTHENTICATIONFAILED] invalid credentials")
        #expect(good.status == "OK")
        #expect(good.tagged.contains("[CAPABILITY IMAP4rev2"))
        // RFC 9051 6.1.3: BYE before the tagged OK.
        #expect(logout.untagged == ["* BYE logging out"])
        #expect(logout.status == "OK")
    }

    @Test func loginDisabledBeforeTLSWhenRequired() async throws {
        let server = try await TestServer.start { $0.requireTLSForAuth = true }
        let (capability, login) = try await withClient(port: server.port) { c in
            _ = c.line()
            return (c.command("CAPABILITY"), c.command("LOGIN mox@localhost secret"))
        }
        await server.stop()
        #expect(capability.untagged.first?.contains(" LOGINDISABLED") == true)
        #expect(capability.untagged.first?.contains("AUTH=") == false)
        #expect(login.tagged.hasPrefix("t2 NO [PRIVACYREQUIRED]"))
    }

    @Test func authenticatePlainWithInitialResponse() async throws {
        let server = try await TestServer.start()
        let response = try await withClient(port: server.port) { c in
            _ = c.line()
            // "\0mox@localhost\0secret" in base64 (RFC 4959 initial response).
            return c.command("AUTHENTICATE PLAIN AG1veEBsb2NhbGhvc3QAc2VjcmV0")
        }
        await server.stop()
        #expect(response.status == "OK")
    }

    @Test func stateAndSyntaxErrorsKeepTheConnectionUsable() async throws {
        let server = try await TestServer.start()
        let r = try await withClient(port: server.port) { c in
            _ = c.line()
            return [
                c.command("SELECT INBOX"), c.command("FROB"), c.command("LOGIN mox@localhost secret"),
                c.command("FETCH 1 FLAGS"), c.command("SELECT INBOX"), c.command("FETCH 1:* (FLAGS"),
                c.command("NOOP"),
            ]
        }
        await server.stop()
        #expect(r[0].tagged == "t1 BAD not authenticated")
        #expect(r[1].tagged == "t2 BAD unknown command FROB")
        #expect(r[3].tagged == "t4 BAD no mailbox selected")
        #expect(r[5].status == "BAD")
        #expect(r[6].status == "OK")
    }

    @Test func literalOverTheLimitIsRefusedWithTOOBIG() async throws {
        let server = try await TestServer.start()
        let (r, after) = try await withClient(port: server.port) { c in
            _ = c.login()
            c.send("a1 APPEND INBOX {999999999999}\r\n")
            let r = c.response("a1")
            return (r, c.command("NOOP"))
        }
        await server.stop()
        #expect(r.tagged.hasPrefix("a1 NO [TOOBIG]"))
        #expect(after.status == "OK")
    }

    @Test func mailboxCommands() async throws {
        let server = try await TestServer.start()
        let r = try await withClient(port: server.port) { c in
            _ = c.login()
            return [
                c.command("CREATE a/b/c"), c.command("CREATE a"), c.command("LIST \"\" \"*\""),
                c.command("LIST \"\" \"%\""), c.command("RENAME a/b x"), c.command("LIST \"\" \"x*\""),
                c.command("DELETE x/c"), c.command("SELECT nothere"), c.command("NAMESPACE"),
                c.command("LIST (SPECIAL-USE) \"\" \"*\""), c.command("SUBSCRIBE ghost"),
                c.command("LIST (SUBSCRIBED) \"\" \"g*\""), c.command("LSUB \"\" \"g*\""),
                c.command("LIST \"\" \"\""),
            ]
        }
        await server.stop()
        #expect(r[0].status == "OK")
        #expect(r[1].tagged.hasPrefix("t3 NO [ALREADYEXISTS]"))
        #expect(r[2].untagged.contains("* LIST (\\HasChildren) \"/\" a/b"))
        #expect(r[2].untagged.contains("* LIST (\\HasNoChildren) \"/\" a/b/c"))
        #expect(r[2].untagged.contains("* LIST (\\HasNoChildren \\Sent) \"/\" Sent"))
        #expect(r[2].untagged.contains("* LIST (\\HasNoChildren) \"/\" INBOX"))
        #expect(!r[3].untagged.contains { $0.hasSuffix(" a/b") })
        #expect(r[5].untagged == ["* LIST (\\HasChildren) \"/\" x", "* LIST (\\HasNoChildren) \"/\" x/c"])
        #expect(r[6].status == "OK")
        #expect(r[7].tagged.hasPrefix("t9 NO [NONEXISTENT]"))
        #expect(r[8].untagged == ["* NAMESPACE ((\"\" \"/\")) NIL NIL"])
        #expect(r[9].untagged.count == 5)
        #expect(r[11].untagged == ["* LIST (\\Subscribed \\NonExistent) \"/\" ghost"])
        #expect(r[12].untagged == ["* LSUB (\\Noselect) \"/\" ghost"])
        #expect(r[13].untagged == ["* LIST (\\Noselect) \"/\" \"\""])
    }

    @Test func appendStatusAndModifiedUTF7Names() async throws {
        let server = try await TestServer.start()
        let r = try await withClient(port: server.port) { c in
            _ = c.login()
            return [
                c.append("INBOX", testMessage(subject: "one"), flags: "\\Seen $Forwarded"),
                c.append("INBOX", testMessage(subject: "two")),
                c.command("STATUS INBOX (MESSAGES UIDNEXT UNSEEN SIZE DELETED)"),
                c.append("nothere", testMessage(subject: "x")),
                c.command("CREATE \"&AOk-t&AOk-\""), c.command("LIST \"\" \"&AOk-*\""),
                c.command("ENABLE UTF8=ACCEPT"), c.command("LIST \"\" \"é*\""),
            ]
        }
        await server.stop()
        #expect(r[0].tagged.hasPrefix("t2 OK [APPENDUID "))
        #expect(r[0].tagged.contains(" 1] "))
        #expect(r[1].tagged.contains(" 2] "))
        let size = testMessage(subject: "one").utf8.count + testMessage(subject: "two").utf8.count
        #expect(r[2].untagged == ["* STATUS INBOX (MESSAGES 2 UIDNEXT 3 UNSEEN 1 SIZE \(size) DELETED 0)"])
        // RFC 9051 6.3.12: TRYCREATE.
        #expect(r[3].tagged.hasPrefix("t5 NO [TRYCREATE]"))
        #expect(r[5].untagged == ["* LIST (\\HasNoChildren) \"/\" &AOk-t&AOk-"])
        #expect(r[7].untagged == ["* LIST (\\HasNoChildren) \"/\" \"été\""])
    }

    @Test func selectAndFetchItems() async throws {
        let server = try await TestServer.start()
        let plain = testMessage(subject: "hello", body: "line one\r\nline two\r\n")
        let r = try await withClient(port: server.port) { c in
            _ = c.login()
            _ = c.append("INBOX", plain)
            _ = c.append("INBOX", multipartMessage)
            return [
                c.command("SELECT INBOX"),
                c.command("FETCH 1 (FLAGS UID RFC822.SIZE ENVELOPE)"),
                c.command("FETCH 2 BODYSTRUCTURE"),
                c.command("FETCH 1 BODY.PEEK[]"),
                c.command("FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[TEXT] BODY.PEEK[]<0.4>)"),
                c.command("FETCH 2 (BODY.PEEK[1.1] BODY.PEEK[2.MIME] BINARY.PEEK[2] BINARY.SIZE[2])"),
                c.command("FETCH 1 BODY[TEXT]"),
                c.command("UID FETCH 2 (FLAGS)"),
                c.command("FETCH 2 (BODY PREVIEW)"),
            ]
        }
        await server.stop()
        #expect(r[0].untagged.contains("* 2 EXISTS"))
        #expect(r[0].untagged.contains { $0.hasPrefix("* OK [UIDVALIDITY ") })
        #expect(r[0].untagged.contains("* OK [UIDNEXT 3] next uid"))
        #expect(r[0].tagged.hasPrefix("t4 OK [READ-WRITE]"))
        #expect(
            r[1].untagged == [
                "* 1 FETCH (FLAGS (\\Recent) UID 1 RFC822.SIZE \(plain.utf8.count) ENVELOPE (\"Mon, 01 Jan 2024 10:00:00 +0000\" "
                    + "\"hello\" ((\"Alice\" NIL \"alice\" \"example.org\")) ((\"Alice\" NIL \"alice\" \"example.org\")) "
                    + "((\"Alice\" NIL \"alice\" \"example.org\")) ((\"Bob\" NIL \"bob\" \"example.com\")) NIL NIL NIL "
                    + "\"<hello@example.org>\"))"
            ]
        )
        #expect(
            r[2].untagged == [
                "* 2 FETCH (BODYSTRUCTURE (((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 10 1 NIL NIL NIL NIL)"
                    + "(\"TEXT\" \"HTML\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 16 1 NIL NIL NIL NIL) \"ALTERNATIVE\" "
                    + "(\"BOUNDARY\" \"inner\") NIL NIL NIL)(\"APPLICATION\" \"OCTET-STREAM\" (\"NAME\" \"data.bin\") NIL NIL "
                    + "\"BASE64\" 8 NIL (\"ATTACHMENT\" (\"FILENAME\" \"data.bin\")) NIL NIL) \"MIXED\" (\"BOUNDARY\" \"outer\") "
                    + "NIL NIL NIL))"
            ]
        )
        #expect(r[3].untagged == ["* 1 FETCH (BODY[] {\(plain.utf8.count)}\r\n\(plain))"])
        #expect(
            r[4].untagged == [
                "* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {18}\r\nSubject: hello\r\n\r\n BODY[TEXT] {20}\r\n"
                    + "line one\r\nline two\r\n BODY[]<0> {4}\r\nFrom)"
            ]
        )
        #expect(
            r[5].untagged == [
                "* 2 FETCH (BODY[1.1] {10}\r\nplain text BODY[2.MIME] {148}\r\n"
                    + "Content-Type: application/octet-stream; name=\"data.bin\"\r\n"
                    + "Content-Disposition: attachment; filename=\"data.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                    + " BINARY[2] ~{5}\r\n\u{0}\u{1}\u{2}\u{3}\u{4} BINARY.SIZE[2] 5)"
            ]
        )
        // RFC 9051 6.4.5: BODY[] without PEEK sets \Seen and reports the flags.
        #expect(r[6].untagged == ["* 1 FETCH (BODY[TEXT] {20}\r\nline one\r\nline two\r\n FLAGS (\\Recent \\Seen))"])
        #expect(r[7].untagged == ["* 2 FETCH (UID 2 FLAGS (\\Recent))"])
        #expect(r[8].untagged.first?.contains("PREVIEW \"plain text html text\"") == true)
    }

    @Test func storeAndSearch() async throws {
        let server = try await TestServer.start()
        let r = try await withClient(port: server.port) { c in
            _ = c.login()
            _ = c.append("INBOX", testMessage(subject: "apple pie", body: "Cinnamon and APPLES\r\n"))
            _ = c.append("INBOX", testMessage(subject: "banana", from: "Carol <carol@example.net>"))
            _ = c.append("INBOX", testMessage(subject: "cherry"), flags: "\\Deleted")
            _ = c.command("SELECT INBOX")
            return [
                c.command("STORE 1 +FLAGS (\\Flagged mykw)"),
                c.command("STORE 2 +FLAGS.SILENT (\\Seen)"),
                c.command("UID STORE 1:2 -FLAGS (\\Flagged)"),
                c.command("SEARCH UNSEEN"),
                c.command("SEARCH FROM carol"),
                c.command("SEARCH BODY cinnamon"),
                c.command("SEARCH TEXT apples"),
                c.command("SEARCH OR SUBJECT cherry KEYWORD mykw"),
                c.command("SEARCH NOT DELETED 2:*"),
                c.command("UID SEARCH RETURN (MIN MAX COUNT ALL) ALL"),
                c.command("SEARCH HEADER Message-ID <banana@example.org>"),
                c.command("SEARCH SENTSINCE 1-Jan-2024 SENTBEFORE 2-Jan-2024 LARGER 10"),
                c.command("SEARCH RETURN (SAVE) SUBJECT banana"),
                c.command("FETCH $ (UID)"),
                c.command("SEARCH CHARSET KOI8-R ALL"),
            ]
        }
        await server.stop()
        #expect(r[0].untagged.last == "* 1 FETCH (FLAGS (\\Recent \\Flagged mykw))")
        // RFC 9051 7.3.5: a new keyword is announced in FLAGS first.
        #expect(r[0].untagged.first?.hasPrefix("* FLAGS (") == true && r[0].untagged.first?.hasSuffix(" mykw)") == true)
        #expect(r[1].untagged.isEmpty)
        #expect(r[2].untagged == ["* 1 FETCH (UID 1 FLAGS (\\Recent mykw))", "* 2 FETCH (UID 2 FLAGS (\\Recent \\Seen))"])
        #expect(r[3].untagged == ["* SEARCH 1 3"])
        #expect(r[4].untagged == ["* SEARCH 2"])
        #expect(r[5].untagged == ["* SEARCH 1"])
        #expect(r[6].untagged == ["* SEARCH 1"])
        #expect(r[7].untagged == ["* SEARCH 1 3"])
        #expect(r[8].untagged == ["* SEARCH 2"])
        #expect(r[9].untagged == ["* ESEARCH (TAG \"t15\") UID MIN 1 MAX 3 COUNT 3 ALL 1:3"])
        #expect(r[10].untagged == ["* SEARCH 2"])
        #expect(r[11].untagged == ["* SEARCH 1 2 3"])
        #expect(r[12].untagged.isEmpty)
        #expect(r[13].untagged == ["* 2 FETCH (UID 2)"])
        #expect(r[14].tagged.hasPrefix("t20 NO [BADCHARSET (UTF-8)]"))
    }

    @Test func copyMoveAndExpunge() async throws {
        let server = try await TestServer.start()
        let r = try await withClient(port: server.port) { c in
            _ = c.login()
            for i in 1...5 {
                _ = c.append("INBOX", testMessage(subject: "m\(i)"))
            }
            _ = c.command("CREATE Target")
            _ = c.command("SELECT INBOX")
            return [
                c.command("COPY 1:2 Target"),
                c.command("MOVE 2 Target"),
                c.command("STORE 1,3 +FLAGS.SILENT (\\Deleted)"),
                c.command("UID EXPUNGE 1"),
                c.command("EXPUNGE"),
                c.command("STATUS Target (MESSAGES)"),
                c.command("COPY 1 Nowhere"),
                c.command("UNSELECT"),
                c.command("EXAMINE INBOX"),
                c.command("STORE 1 +FLAGS (\\Seen)"),
            ]
        }
        await server.stop()
        #expect(r[0].tagged.hasPrefix("t9 OK [COPYUID "))
        #expect(r[0].tagged.contains(" 1:2 1:2]"))
        // RFC 6851 3.3: COPYUID in an untagged OK, then EXPUNGE.
        #expect(r[1].untagged.count == 2)
        #expect(r[1].untagged[0].hasPrefix("* OK [COPYUID ") && r[1].untagged[0].hasSuffix(" 2 3] moved"))
        #expect(r[1].untagged[1] == "* 2 EXPUNGE")
        // UIDs 1, 3, 4, 5 remain; messages 1 and 3 (UIDs 1 and 4) are \Deleted; UID EXPUNGE 1 removes only UID 1.
        #expect(r[3].untagged == ["* 1 EXPUNGE"])
        #expect(r[4].untagged == ["* 2 EXPUNGE"])
        #expect(r[5].untagged == ["* STATUS Target (MESSAGES 3)"])
        #expect(r[6].tagged.hasPrefix("t15 NO [TRYCREATE]"))
        #expect(r[8].tagged.hasPrefix("t17 OK [READ-ONLY]"))
        #expect(r[9].tagged.hasPrefix("t18 NO [READ-ONLY]"))
    }

    @Test func otherSessionsChangesAreShownInOrder() async throws {
        let server = try await TestServer.start()
        let port = server.port
        let r = try await withClient(port: port) { a in
            _ = a.login()
            _ = a.append("INBOX", testMessage(subject: "first"))
            _ = a.append("INBOX", testMessage(subject: "second"))
            _ = a.command("SELECT INBOX")
            let b = try TestClient(port: port)
            defer { b.close() }
            _ = b.login()
            _ = b.command("SELECT INBOX")
            _ = b.append("INBOX", testMessage(subject: "third"))
            _ = b.command("STORE 1 +FLAGS (\\Answered)")
            _ = b.command("STORE 2 +FLAGS.SILENT (\\Deleted)")
            _ = b.command("EXPUNGE")
            Thread.sleep(forTimeInterval: 0.2)
            // No EXPUNGE during FETCH (RFC 9051 7.4.1); it comes with the NOOP.
            let fetch = a.command("FETCH 1:* (UID)")
            let noop = a.command("NOOP")
            let after = a.command("FETCH 1:* (UID)")
            return [fetch, noop, after]
        }
        await server.stop()
        #expect(!r[0].untagged.contains { $0.hasSuffix("EXPUNGE") })
        #expect(r[0].untagged.contains("* 3 EXISTS"))
        #expect(r[0].untagged.contains("* 3 FETCH (UID 3)"))
        #expect(r[1].untagged.contains("* 2 EXPUNGE"))
        #expect(r[0].untagged.contains { $0.hasPrefix("* 1 FETCH (UID 1 FLAGS (\\Recent \\Answered") })
        #expect(r[2].untagged == ["* 1 FETCH (UID 1)", "* 2 FETCH (UID 3)"])
    }

    /// A session's own flag changes (STORE, and FETCH of BODY[] setting \Seen) are shown once,
    /// in the command's responses, and not again when their change events come back; another
    /// session sees each of them.
    @Test func ownFlagChangesAreNotShownTwice() async throws {
        let server = try await TestServer.start()
        let port = server.port
        let r = try await withClient(port: port) { a in
            _ = a.login()
            _ = a.append("INBOX", testMessage(subject: "first"))
            _ = a.append("INBOX", testMessage(subject: "second"))
            let b = try TestClient(port: port)
            defer { b.close() }
            _ = b.login()
            _ = b.command("SELECT INBOX")
            _ = a.command("SELECT INBOX")
            let store = a.command("STORE 1:2 +FLAGS (\\Flagged)")
            let fetch = a.command("FETCH 2 (BODY[])")
            Thread.sleep(forTimeInterval: 0.2)
            let noop = a.command("NOOP")
            let other = b.command("NOOP")
            return [store, fetch, noop, other]
        }
        await server.stop()
        #expect(r[0].untagged == ["* 1 FETCH (FLAGS (\\Flagged))", "* 2 FETCH (FLAGS (\\Flagged))"])
        #expect(r[1].untagged.contains { $0.contains("\\Seen") })
        #expect(!r[2].untagged.contains { $0.contains("FETCH") })
        #expect(r[3].untagged.contains("* 1 FETCH (UID 1 FLAGS (\\Recent \\Flagged))"))
        #expect(r[3].untagged.contains("* 2 FETCH (UID 2 FLAGS (\\Recent \\Seen \\Flagged))"))
    }

    /// Another session's change still queued when this session changes the same message is not
    /// shown after the newer state: MODSEQ never goes down for a message (RFC 7162 3.1; imaptest's
    /// QRESYNC stress found it). Two sessions change one message as fast as they can; the one
    /// watched must see its MODSEQs only rise.
    @Test func queuedOlderChangeDoesNotFollowOwnNewerOne() async throws {
        let server = try await TestServer.start()
        let port = server.port
        let lines = try await withClient(port: port) { a in
            _ = a.login()
            _ = a.append("INBOX", testMessage(subject: "first"))
            _ = a.command("SELECT INBOX (CONDSTORE)")
            let b = try TestClient(port: port)
            _ = b.login()
            _ = b.command("SELECT INBOX (CONDSTORE)")
            let done = DispatchSemaphore(value: 0)
            let other = Thread {
                for i in 0..<300 {
                    _ = b.command(i % 2 == 0 ? "STORE 1 +FLAGS.SILENT (\\Answered)" : "STORE 1 -FLAGS.SILENT (\\Answered)")
                }
                b.close()
                done.signal()
            }
            other.start()
            var seen: [String] = []
            for i in 0..<300 {
                seen += a.command(i % 2 == 0 ? "STORE 1 +FLAGS (\\Flagged)" : "STORE 1 -FLAGS (\\Flagged)").untagged
            }
            done.wait()
            seen += a.command("NOOP").untagged
            return seen
        }
        await server.stop()
        let shown = lines.compactMap { line -> Int? in
            guard line.hasPrefix("* 1 FETCH"), let open = line.range(of: "MODSEQ (") else { return nil }
            return Int(line[open.upperBound...].prefix { $0.isNumber })
        }
        #expect(shown.count >= 300)
        let drops = zip(shown, shown.dropFirst()).filter { $0.1 < $0.0 }
        let dropCount = drops.count
        #expect(dropCount == 0, "MODSEQ went down for message 1: \(Array(drops.prefix(5)))")
    }

    /// FETCH takes ENVELOPE from the structure stored at APPEND and reads the file of a message
    /// stored without one (delivered by another writer); a message whose file is gone is left
    /// out and the others are still answered.
    @Test func fetchMixesStoredStructuresAndFiles() async throws {
        let server = try await TestServer.start()
        let backend = server.backend
        let r = try await withClient(port: server.port) { c in
            _ = c.login()
            _ = c.append("INBOX", testMessage(subject: "appended one"))
            _ = c.append("INBOX", testMessage(subject: "appended two"))
            storeChange(backend, deliverTo("Inbox", subject: "delivered three"))
            storeChange(backend) { account in
                let box = try #require(try await account.mailbox(named: "Inbox"))
                let gone = try await account.deliver(Array(testMessage(subject: "gone").utf8), to: box.id, received: 0)
                let path = backend.dataDir + "/accounts/mox/msg/0000/\(gone.id.rawValue)"
                #expect(unlink(path) == 0)
            }
            _ = c.command("SELECT INBOX")
            return [c.command("FETCH 1:* (ENVELOPE)"), c.command("FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")]
        }
        await server.stop()
        let envelopes = r[0].untagged.filter { $0.contains(" FETCH (ENVELOPE (") }
        #expect(envelopes.count == 3)
        for (n, subject) in ["appended one", "appended two", "delivered three"].enumerated() {
            #expect(envelopes.contains { $0.hasPrefix("* \(n + 1) FETCH") && $0.contains("\"\(subject)\"") }, "\(subject)")
        }
        #expect(r[0].tagged.contains("OK"))
        #expect(r[1].untagged.filter { $0.contains(" FETCH (BODY[HEADER.FIELDS (SUBJECT)]") }.count == 3)
        #expect(!r[1].untagged.contains { $0.hasPrefix("* 4 FETCH") })
    }

    @Test func idleSeesADeliveryAtOnce() async throws {
        let server = try await TestServer.start()
        let backend = server.backend
        let (continuation, update, done) = try await withClient(port: server.port) { c in
            _ = c.login()
            _ = c.command("SELECT INBOX")
            c.send("i1 IDLE\r\n")
            let continuation = c.line()
            // Another writer delivers while the session idles.
            let semaphore = DispatchSemaphore(value: 0)
            Task {
                let account = try await backend.account("mox")
                let inbox = try await account.mailbox(named: "Inbox")
                _ = try await account.deliver(Array(testMessage(subject: "new").utf8), to: inbox!.id, received: 0)
                semaphore.signal()
            }
            semaphore.wait()
            let update = c.line()
            c.send("DONE\r\n")
            return (continuation, update, c.response("i1"))
        }
        await server.stop()
        #expect(continuation == "+ idling")
        #expect(update == "* 1 EXISTS")
        #expect(done.tagged == "i1 OK idle done")
    }

    @Test func condstore() async throws {
        let server = try await TestServer.start()
        let r = try await withClient(port: server.port) { c in
            _ = c.login()
            _ = c.append("INBOX", testMessage(subject: "a"))
            _ = c.append("INBOX", testMessage(subject: "b"))
            let select = c.command("SELECT INBOX (CONDSTORE)")
            let highest = select.untagged.first { $0.hasPrefix("* OK [HIGHESTMODSEQ ") } ?? ""
            let value = Int(highest.dropFirst("* OK [HIGHESTMODSEQ ".count).prefix { $0.isNumber }) ?? 0
            let store = c.command("STORE 2 +FLAGS (\\Seen)")
            let changed = c.command("FETCH 1:* (FLAGS) (CHANGEDSINCE \(value))")
            let conditional = c.command("STORE 1:2 (UNCHANGEDSINCE \(value)) +FLAGS (\\Flagged)")
            let search = c.command("SEARCH MODSEQ \(value + 1)")
            return [select, store, changed, conditional, search]
        }
        await server.stop()
        #expect(r[0].untagged.contains { $0.hasPrefix("* OK [HIGHESTMODSEQ ") })
        #expect(r[1].untagged.first?.hasPrefix("* 2 FETCH (FLAGS (\\Recent \\Seen) MODSEQ (") == true)
        #expect(r[2].untagged.count == 1)
        #expect(r[2].untagged.first?.hasPrefix("* 2 FETCH (FLAGS (\\Recent \\Seen) MODSEQ (") == true)
        // RFC 7162 3.1.3: message 2 changed since, so it is MODIFIED; message 1 is updated.
        #expect(r[3].tagged.hasPrefix("t7 OK [MODIFIED 2]"))
        #expect(r[3].untagged.first?.hasPrefix("* 1 FETCH (FLAGS (\\Recent \\Flagged) MODSEQ (") == true)
        #expect(r[4].untagged.first?.hasPrefix("* SEARCH 1 2 (MODSEQ ") == true)
    }

    @Test func inactiveConnectionsAreLoggedOut() async throws {
        let server = try await TestServer.start {
            $0.preAuthTimeout = .milliseconds(300)
            $0.idleTimeout = .milliseconds(900)
        }
        let (before, afterLogin) = try await withClient(port: server.port) { c in
            _ = c.line()
            let start = Date()
            let bye = c.line()
            let b = (bye, Date().timeIntervalSince(start))
            let d = try TestClient(port: server.port)
            defer { d.close() }
            _ = d.login()
            let loginTime = Date()
            let bye2 = d.line()
            return (b, (bye2, Date().timeIntervalSince(loginTime)))
        }
        await server.stop()
        // RFC 9051 5.4: BYE, then close; before login sooner than after.
        #expect(before.0 == "* BYE autologout, inactivity timeout")
        #expect(before.1 < 0.8)
        #expect(afterLogin.0 == "* BYE autologout, inactivity timeout")
        #expect(afterLogin.1 > 0.6)
    }

    @Test func qresync() async throws {
        let server = try await TestServer.start()
        let r = try await withClient(port: server.port) { c in
            _ = c.login()
            for subject in ["a", "b", "c"] {
                _ = c.append("INBOX", testMessage(subject: subject))
            }
            let enable = c.command("ENABLE QRESYNC")
            let select = c.command("SELECT INBOX")
            func code(_ name: String) -> String {
                let line = select.untagged.first { $0.hasPrefix("* OK [\(name) ") } ?? ""
                return String(line.dropFirst("* OK [\(name) ".count).prefix { $0.isNumber })
            }
            let (validity, modseq) = (code("UIDVALIDITY"), code("HIGHESTMODSEQ"))
            _ = c.command("STORE 1 +FLAGS.SILENT (\\Seen)")
            _ = c.command("STORE 2 +FLAGS.SILENT (\\Deleted)")
            let expunge = c.command("EXPUNGE")
            _ = c.command("UNSELECT")
            let reselect = c.command("SELECT INBOX (QRESYNC (\(validity) \(modseq)))")
            let fetch = c.command("UID FETCH 1:* (FLAGS) (CHANGEDSINCE \(modseq) VANISHED)")
            let plain = c.command("FETCH 2 (FLAGS)")
            return [enable, expunge, reselect, fetch, plain]
        }
        await server.stop()
        #expect(r[0].untagged == ["* ENABLED QRESYNC"])
        // RFC 7162 3.2.10: VANISHED instead of EXPUNGE.
        #expect(r[1].untagged == ["* VANISHED 2"])
        #expect(r[2].untagged.contains("* VANISHED (EARLIER) 2"))
        #expect(r[2].untagged.contains { $0.hasPrefix("* 1 FETCH (UID 1 FLAGS (\\Seen) MODSEQ (") })
        #expect(!r[2].untagged.contains { $0.hasPrefix("* 2 FETCH") })
        #expect(r[3].untagged.first == "* VANISHED (EARLIER) 2")
        #expect(r[3].untagged.dropFirst().map { String($0.prefix(24)) } == ["* 1 FETCH (UID 1 FLAGS ("])
        // With QRESYNC every FETCH response carries the UID.
        #expect(r[4].untagged == ["* 2 FETCH (UID 3 FLAGS ())"])
    }

    @Test func quotaAndReplace() async throws {
        let server = try await TestServer.start(quota: 10 * 1024 * 1024)
        let message = testMessage(subject: "draft one")
        let r = try await withClient(port: server.port) { c in
            _ = c.login()
            _ = c.append("Drafts", message, flags: "\\Deleted")
            let root = c.command("GETQUOTAROOT Drafts")
            let quota = c.command("GETQUOTA \"\"")
            let other = c.command("GETQUOTA nothere")
            let status = c.command("STATUS Drafts (DELETED-STORAGE)")
            _ = c.command("SELECT Drafts")
            let replacement = Array(testMessage(subject: "draft two").utf8)
            c.send("r1 REPLACE 1 Drafts {\(replacement.count)+}\r\n")
            c.send(replacement + [13, 10])
            let replace = c.response("r1")
            let fetch = c.command("FETCH 1:* (UID ENVELOPE)")
            return [root, quota, other, status, replace, fetch]
        }
        await server.stop()
        let kb = (message.utf8.count + 1023) / 1024
        #expect(r[0].untagged == ["* QUOTAROOT Drafts \"\"", "* QUOTA \"\" (STORAGE \(kb) 10240)"])
        #expect(r[1].untagged == ["* QUOTA \"\" (STORAGE \(kb) 10240)"])
        #expect(r[2].tagged.hasPrefix("t5 NO [NONEXISTENT]"))
        #expect(r[3].untagged == ["* STATUS Drafts (DELETED-STORAGE \(kb))"])
        // RFC 8508 3.3: APPENDUID, then the old message's EXPUNGE, then OK.
        #expect(r[4].untagged.first?.hasPrefix("* OK [APPENDUID ") == true)
        #expect(r[4].untagged.contains("* 1 EXPUNGE"))
        #expect(r[4].tagged == "r1 OK replace completed")
        #expect(r[5].untagged.count == 1)
        #expect(r[5].untagged.first?.contains("\"draft two\"") == true)
    }

    @Test func metadata() async throws {
        let server = try await TestServer.start()
        let r = try await withClient(port: server.port) { c in
            _ = c.login()
            return [
                c.command("SETMETADATA INBOX (/private/comment \"my inbox\" /shared/vendor/x/y \"deep\")"),
                c.command("GETMETADATA INBOX /private/comment"),
                c.command("GETMETADATA (DEPTH infinity) INBOX /shared"),
                c.command("GETMETADATA (MAXSIZE 3) INBOX /private/comment"),
                c.command("SETMETADATA \"\" (/private/vendor/test {3}\r\nabc)"),
                c.command("GETMETADATA \"\" (/private/vendor/test /private/none)"),
                c.command("SETMETADATA INBOX (/private/comment NIL)"),
                c.command("GETMETADATA INBOX /private/comment"),
                c.command("SETMETADATA INBOX (/bad/name \"x\")"),
                c.command("GETMETADATA nothere /private/comment"),
            ]
        }
        await server.stop()
        #expect(r[0].status == "OK")
        #expect(r[1].untagged == ["* METADATA INBOX (/private/comment \"my inbox\")"])
        #expect(r[2].untagged == ["* METADATA INBOX (/shared/vendor/x/y \"deep\")"])
        // RFC 5464 4.2.1: too long for MAXSIZE: left out, and its size reported.
        #expect(r[3].untagged.isEmpty)
        #expect(r[3].tagged.hasPrefix("t5 OK [METADATA LONGENTRIES 8]"))
        #expect(r[4].status == "OK", "\(r[4])")
        #expect(r[5].untagged == ["* METADATA \"\" (/private/vendor/test \"abc\" /private/none NIL)"], "\(r[5])")
        #expect(r[7].untagged == ["* METADATA INBOX (/private/comment NIL)"])
        #expect(r[8].status == "BAD")
        #expect(r[9].tagged.hasPrefix("t11 NO [NONEXISTENT]"))
    }

    @Test func saveDate() async throws {
        let server = try await TestServer.start()
        let r = try await withClient(port: server.port) { c in
            _ = c.login()
            // The internal date is the client's; the save date is when the server stored it.
            c.send("a1 APPEND INBOX \"01-Jan-2020 10:00:00 +0000\" {\(testMessage(subject: "s").utf8.count)+}\r\n")
            c.send(testMessage(subject: "s") + "\r\n")
            _ = c.response("a1")
            _ = c.command("SELECT INBOX")
            return [
                c.command("FETCH 1 (INTERNALDATE SAVEDATE)"),
                c.command("SEARCH SAVEDATESUPPORTED"),
                c.command("SEARCH SAVEDSINCE 1-Jan-2025"),
                c.command("SEARCH SAVEDBEFORE 1-Jan-2025"),
                c.command("SEARCH BEFORE 1-Jan-2025"),
            ]
        }
        await server.stop()
        let fetch = r[0].untagged.first ?? ""
        #expect(fetch.hasPrefix("* 1 FETCH (INTERNALDATE \"01-Jan-2020 10:00:00 +0000\" SAVEDATE \""))
        #expect(!fetch.contains("SAVEDATE NIL"))
        #expect(r[1].untagged == ["* SEARCH 1"])
        #expect(r[2].untagged == ["* SEARCH 1"])
        #expect(r[3].untagged == ["* SEARCH"])
        #expect(r[4].untagged == ["* SEARCH 1"])
    }

    @Test func uidOnly() async throws {
        let server = try await TestServer.start()
        let r = try await withClient(port: server.port) { c in
            _ = c.login()
            for subject in ["a", "b", "c"] {
                _ = c.append("INBOX", testMessage(subject: subject))
            }
            return [
                c.command("ENABLE UIDONLY"), c.command("SELECT INBOX"), c.command("FETCH 1 (FLAGS)"),
                c.command("UID FETCH 2:3 (UID FLAGS)"), c.command("UID STORE 2 +FLAGS (\\Deleted)"),
                c.command("UID SEARCH 1:2"), c.command("UID SEARCH UID 1:2"), c.command("EXPUNGE"),
                c.command("COPY 1 INBOX"),
            ]
        }
        await server.stop()
        #expect(r[0].untagged == ["* ENABLED UIDONLY"])
        // RFC 9586 3: sequence numbers are refused; responses are numbered by UID.
        #expect(r[2].tagged.hasPrefix("t7 BAD [UIDREQUIRED]"))
        #expect(r[3].untagged.map { String($0.prefix(20)) } == ["* 2 UIDFETCH (FLAGS ", "* 3 UIDFETCH (FLAGS "])
        #expect(r[4].untagged.first?.hasPrefix("* 2 UIDFETCH (FLAGS (") == true)
        #expect(r[5].tagged.hasPrefix("t10 BAD [UIDREQUIRED]"))
        #expect(r[6].untagged == ["* SEARCH 1 2"])
        #expect(r[7].untagged == ["* VANISHED 2"])
        #expect(r[8].tagged.hasPrefix("t13 BAD [UIDREQUIRED]"))
    }
}

@Suite struct SequenceNumberTests {
    /// RFC 9051 9 "seq-number": a sequence number beyond the mailbox, or "*" in an empty one, is a
    /// tagged BAD; UIDs beyond it simply match nothing.
    @Test func sequenceNumbersBeyondTheMailboxAreBad() async throws {
        let server = try await TestServer.start()
        let r = try await withClient(port: server.port) { c in
            _ = c.login()
            _ = c.command("CREATE Empty")
            let empty = c.command("SELECT Empty")
            let starEmpty = c.command("FETCH * FLAGS")
            let uidStarEmpty = c.command("UID FETCH * FLAGS")
            _ = empty
            _ = c.append("INBOX", testMessage(subject: "one"))
            _ = c.append("INBOX", testMessage(subject: "two"))
            _ = c.command("SELECT INBOX")
            return [
                starEmpty, uidStarEmpty,
                c.command("FETCH 3 FLAGS"), c.command("FETCH 1:3 FLAGS"), c.command("STORE 5 +FLAGS (\\Seen)"),
                c.command("COPY 2:9 Empty"), c.command("MOVE 7 Empty"),
                c.command("UID FETCH 99 FLAGS"), c.command("FETCH 2:* FLAGS"), c.command("FETCH 1,2 FLAGS"),
            ]
        }
        await server.stop()
        #expect(r[0].status == "BAD")
        #expect(r[1].status == "OK")
        #expect(r[2].tagged.contains("BAD message sequence number 3 not in mailbox"))
        for i in 3...6 { #expect(r[i].status == "BAD", "\(r[i].tagged)") }
        #expect(r[7].status == "OK")
        #expect(r[7].untagged.isEmpty)
        #expect(r[8].status == "OK")
        #expect(r[9].status == "OK")
        #expect(r[9].lines("* 2 FETCH").count == 1)
    }
}

@Suite struct LargeAppendTests {
    /// An APPEND literal above the in-memory limit streams into a file: stored byte for byte
    /// (multipart structure included), with its search text, and no temporary file left.
    @Test func largeAppendIsStreamedAndStoredExactly() async throws {
        let server = try await TestServer.start()
        let part = String(repeating: "line of text for the big message, with a findme word\r\n", count: 20_000)
        let message =
            "From: a@example.org\r\nSubject: big\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
            + "Content-Type: text/plain\r\n\r\n" + part + "--b\r\nContent-Type: application/octet-stream\r\n\r\n"
            + String(repeating: "AAAA", count: 100_000) + "\r\n--b--\r\n"
        let r = try await withClient(port: server.port) { c in
            _ = c.login()
            let append = c.append("INBOX", message)
            _ = c.command("SELECT INBOX")
            let structure = c.command("FETCH 1 (RFC822.SIZE BODYSTRUCTURE)")
            let search = c.command("SEARCH BODY findme")
            c.send("f1 FETCH 1 BODY.PEEK[]\r\n")
            let first = c.rawLine().map { String(decoding: $0, as: UTF8.self) } ?? ""
            let size = Int(first.split(separator: "{").last?.dropLast() ?? "") ?? -1
            let body = c.read(count: max(0, size)) ?? []
            let done = c.response("f1")
            return (append, structure, search, body, done)
        }
        #expect(r.0.status == "OK")
        #expect(r.1.untagged.first?.contains("RFC822.SIZE \(message.utf8.count)") == true)
        #expect(r.1.untagged.first?.contains("(\"TEXT\" \"PLAIN\"") == true)
        #expect(r.2.untagged == ["* SEARCH 1"])
        #expect(r.3 == Array(message.utf8))
        #expect(r.4.status == "OK")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: server.backend.dataDir + "/tmp")) ?? []
        #expect(left.isEmpty)
        await server.stop()
    }
}
