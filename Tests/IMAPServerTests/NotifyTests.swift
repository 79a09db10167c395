import Foundation
import IMAPServer
import MailStore
import Testing

/// Runs a change on the account from outside the session (another writer), and waits for it.
func storeChange(_ backend: StoreBackend, _ body: @escaping @Sendable (Account) async throws -> Void) {
    let semaphore = DispatchSemaphore(value: 0)
    Task {
        defer { semaphore.signal() }
        try await body(try await backend.account("mox"))
    }
    semaphore.wait()
}

func deliverTo(_ mailbox: String, subject: String) -> @Sendable (Account) async throws -> Void {
    { account in
        let box = try await account.mailbox(named: mailbox)
        _ = try await account.deliver(Array(testMessage(subject: subject).utf8), to: box!.id, received: 0)
    }
}

/// NOTIFY (RFC 5465) over loopback.
@Suite struct NotifyTests {
    @Test func advertisedAndValidated() async throws {
        let server = try await TestServer.start()
        let r = try await withClient(port: server.port) { c in
            _ = c.line()
            let early = c.command("NOTIFY NONE")
            _ = c.command("LOGIN mox@localhost secret")
            return [
                early, c.command("CAPABILITY"),
                c.command("NOTIFY SET (selected (MessageNew))"),
                c.command("NOTIFY SET (selected-delayed (FlagChange))"),
                c.command("NOTIFY SET (personal (AnnotationChange))"),
                c.command("NOTIFY SET (personal (MessageNew MessageExpunge Frobnicate))"),
                c.command("NOTIFY SET (selected (MessageNew MessageExpunge)) (selected-delayed (MessageNew MessageExpunge))"),
                c.command("NOTIFY SET (selected (MailboxName))"),
                c.command("NOTIFY SET (personal MessageNew)"),
                c.command("NOTIFY SET (inboxes (MessageNew MessageExpunge FlagChange)) (personal NONE)"),
                // Other mailboxes only get STATUS: a lone event is accepted (as Dovecot does).
                c.command("NOTIFY SET (personal (MessageExpunge))"),
            ]
        }
        await server.stop()
        #expect(r[0].tagged == "t1 BAD not authenticated")
        #expect(r[1].untagged.first?.contains(" NOTIFY") == true)
        // RFC 5465 5, 8: MessageNew and MessageExpunge go together; FlagChange needs them.
        #expect(r[2].status == "BAD")
        #expect(r[3].status == "BAD")
        // RFC 5465 3.1: an unsupported event is NO, with the events that are supported.
        let badEvent =
            "[BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange MailboxMetadataChange ServerMetadataChange)]"
        #expect(r[4].tagged.hasPrefix("t6 NO \(badEvent)"))
        #expect(r[5].tagged.hasPrefix("t7 NO \(badEvent)"))
        // RFC 5465 6.1: one selected group, with message events only.
        #expect(r[6].status == "BAD")
        #expect(r[7].status == "BAD")
        #expect(r[8].status == "BAD")
        #expect(r[9].status == "OK")
        #expect(r[10].status == "OK")
    }

    @Test func eventsArriveBetweenCommands() async throws {
        let server = try await TestServer.start()
        let backend = server.backend
        let (setup, lines) = try await withClient(port: server.port) { c in
            _ = c.login()
            _ = c.command("ENABLE IMAP4rev2")
            _ = c.command("SELECT INBOX")
            let setup = c.command(
                "NOTIFY SET (selected (MessageNew (UID BODY.PEEK[HEADER.FIELDS (Subject)]) MessageExpunge FlagChange))"
                    + " (personal (MessageNew MessageExpunge MailboxName SubscriptionChange MailboxMetadataChange ServerMetadataChange))"
            )
            var lines: [String] = []
            // Nothing is sent by the client from here on: every line is unsolicited.
            storeChange(backend, deliverTo("Inbox", subject: "first"))
            lines.append(c.line() ?? "")
            lines.append(c.line() ?? "")
            storeChange(backend, deliverTo("Archive", subject: "second"))
            lines.append(c.line() ?? "")
            storeChange(backend) { account in _ = try await account.createMailbox("Lists") }
            lines.append(c.line() ?? "")
            storeChange(backend) { account in try await account.setSubscribed("Lists", true) }
            lines.append(c.line() ?? "")
            storeChange(backend) { account in
                try await account.setMetadata(mailbox: nil, [(name: "/private/comment", value: Array("hi".utf8))])
            }
            lines.append(c.line() ?? "")
            storeChange(backend) { account in
                let inbox = try await account.mailbox(named: "Inbox")
                _ = try await account.expunge(in: inbox!.id, uids: [UID(1)])
            }
            lines.append(c.line() ?? "")
            return (setup, lines)
        }
        await server.stop()
        #expect(setup.status == "OK", "\(setup)")
        #expect(lines[0] == "* 1 EXISTS")
        #expect(lines[1] == "* 1 FETCH (UID 1 BODY[HEADER.FIELDS (SUBJECT)] {18}\r\nSubject: first\r\n\r\n)")
        #expect(lines[2] == "* STATUS Archive (MESSAGES 1 UIDNEXT 2 UNSEEN 1)")
        #expect(lines[3] == "* LIST (\\HasNoChildren) \"/\" Lists")
        #expect(lines[4] == "* LIST (\\Subscribed) \"/\" Lists")
        #expect(lines[5] == "* METADATA \"\" /private/comment")
        // SELECTED, not SELECTED-DELAYED: expunges go out at once (RFC 5465 6.1.1).
        #expect(lines[6] == "* 1 EXPUNGE")
    }

    @Test func ownChangesAreNotReported() async throws {
        let server = try await TestServer.start()
        let backend = server.backend
        let r = try await withClient(port: server.port) { c in
            _ = c.login()
            _ = c.command("NOTIFY SET (personal (MessageNew MessageExpunge MailboxName SubscriptionChange MailboxMetadataChange))")
            // RFC 5465 5: the client's own CREATE, SUBSCRIBE, APPEND and SETMETADATA are not echoed.
            let own = [
                c.command("CREATE Projects"), c.command("SUBSCRIBE Projects"),
                c.append("Projects", testMessage(subject: "mine")),
                c.command("SETMETADATA Projects (/private/comment \"x\")"),
            ]
            // The same kinds of change by another writer are.
            storeChange(backend) { account in _ = try await account.createMailbox("Other", subscribe: false) }
            storeChange(backend, deliverTo("Projects", subject: "theirs"))
            let noop = c.command("NOOP")
            return own + [noop]
        }
        await server.stop()
        for response in r.prefix(4) {
            #expect(response.status == "OK", "\(response)")
            #expect(!response.untagged.contains { $0.hasPrefix("* LIST") || $0.hasPrefix("* STATUS") || $0.hasPrefix("* METADATA") }, "\(response)")
        }
        #expect(r[4].untagged.contains("* LIST (\\HasNoChildren) \"/\" Other"), "\(r[4])")
        #expect(r[4].untagged.contains { $0.hasPrefix("* STATUS Projects (MESSAGES 2 UIDNEXT 3 ") }, "\(r[4])")
    }

    @Test func setStatusNoneAndDelayed() async throws {
        let server = try await TestServer.start()
        let backend = server.backend
        let r = try await withClient(port: server.port) { c in
            _ = c.login()
            _ = c.append("INBOX", testMessage(subject: "a"))
            _ = c.append("INBOX", testMessage(subject: "b"))
            _ = c.command("SELECT INBOX")
            // RFC 5465 3.1: STATUS for the watched mailboxes other than the selected one.
            let status = c.command("NOTIFY SET STATUS (selected-delayed (MessageNew MessageExpunge)) (mailboxes (Archive Sent) (MessageNew MessageExpunge))")
            // SELECTED-DELAYED: an expunge waits for a command that may show it; FETCH may not.
            storeChange(backend) { account in
                let inbox = try await account.mailbox(named: "Inbox")
                _ = try await account.expunge(in: inbox!.id, uids: [UID(1)])
            }
            let fetch = c.command("FETCH 1:* (UID)")
            let noop = c.command("NOOP")
            // NOTIFY NONE: not even the selected mailbox's events (RFC 5465 3.1).
            let none = c.command("NOTIFY NONE")
            storeChange(backend, deliverTo("Inbox", subject: "c"))
            let after = c.command("NOOP")
            return [status, fetch, noop, none, after]
        }
        await server.stop()
        #expect(r[0].status == "OK")
        #expect(r[0].untagged.count == 2)
        #expect(r[0].untagged.allSatisfy { $0.hasPrefix("* STATUS ") && $0.contains("(MESSAGES 0 UIDNEXT 1 UIDVALIDITY ") })
        // The expunged message is not announced, and its data is gone: only the other one.
        #expect(r[1].untagged == ["* 2 FETCH (UID 2)"])
        #expect(r[2].untagged == ["* 1 EXPUNGE"])
        #expect(r[3].status == "OK")
        #expect(r[4].untagged.isEmpty)
    }
}
