// mox-crashtest: the child process of the store's crash test (Tests/MailStoreTests/CrashTests.swift).
// It delivers COUNT generated messages into the Inbox of account "test" under DATADIR from
// CONCURRENCY tasks, and after each deliver() returns it writes "n id uid" on its own line to
// standard output, unbuffered: every line is a message the store has acknowledged as durable.
// The test kills it with SIGKILL part-way and checks that every acknowledged message is intact.
// Not a product and not part of `mox`: it exists for that test only.

import CrashTestSupport
import MailStore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

func fail(_ message: String) -> Never {
    var text = "mox-crashtest: \(message)\n"
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(2)
}

let arguments = CommandLine.arguments
guard arguments.count == 4, let count = Int(arguments[2]), let concurrency = Int(arguments[3]), concurrency > 0
else {
    fail("usage: mox-crashtest DATADIR COUNT CONCURRENCY")
}
let dataDir = arguments[1]

let account: Account
do {
    account = try await Account.open(dataDir: dataDir, name: "test")
} catch {
    fail("\(error)")
}
guard let inbox = try? await account.mailbox(named: "Inbox") else {
    fail("no Inbox")
}
let nextNumber = Atomic<Int>(0)
let output = Mutex<Void>(())

await withTaskGroup(of: Void.self) { group in
    for _ in 0..<concurrency {
        group.addTask {
            while true {
                let n = nextNumber.wrappingAdd(1, ordering: .relaxed).oldValue
                guard n < count else { return }
                let bytes = crashTestMessage(n)
                let delivered: Delivered
                do {
                    delivered = try await account.deliver(
                        bytes,
                        to: inbox.id,
                        received: 1_700_000_000 + Int64(n),
                        searchText: "crash test \(n)"
                    )
                } catch {
                    fail("delivering message \(n): \(error)")
                }
                var line = "\(n) \(delivered.id.rawValue) \(delivered.uid.rawValue)\n"
                output.withLock { _ in
                    line.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
                }
            }
        }
    }
}
await account.close()
