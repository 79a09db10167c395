import ArgumentParser
import FoundationEssentials
import MailStore

#if canImport(Glibc)
import Glibc
#endif

struct VerifyData: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verifydata",
        abstract: "Verify that the databases and message files of a data directory agree.",
        discussion: """
            For every account under DATADIR/accounts, checks that each message in the database has its \
            message file with the size the database records, that there are no message files without a \
            message (orphans) and no leftover temporary files, that UIDs are unique and below UIDNEXT in \
            each mailbox, that the stored mailbox counts equal what the messages add up to, that no MODSEQ \
            is above the account's highest, and that the full-text index holds exactly the live messages.

            Every problem is printed with the account, mailbox, message id, UID and file path it concerns, \
            followed by a summary; the exit status is 1 when there is any problem. The databases are opened \
            read-only and the account locks are not taken, so it is safe to run while mox or another command \
            has the data directory open: files and messages that are in the middle of a delivery or removal \
            are looked at again before they are reported. Orphaned and temporary files are removed the next \
            time an account is opened while nobody else has it open. Typically run on a backup, or after a \
            crash. On a terminal a progress line is shown; otherwise output is one line per account.
            """
    )

    @Flag(
        name: .customLong("skip-size-check", withSingleDash: true),
        help: "Do not report message files whose size differs from the size in the database."
    )
    var skipSizeCheck = false

    @Argument(help: ArgumentHelp("The data directory, with the accounts/ directory in it.", valueName: "datadir"))
    var dataDir: String

    func run() throws {
        var info = stat()
        guard stat(self.dataDir + "/accounts", &info) == 0 else {
            writeStderr("mox verifydata: \(self.dataDir)/accounts: not found\n")
            throw ExitCode(1)
        }
        let terminal = isatty(1) != 0
        let start = ContinuousClock.now
        var lastDraw = ContinuousClock.now
        var lastAccount = ""
        let report = DataVerifier.verify(dataDir: self.dataDir) { account, done, total in
            if terminal {
                let now = ContinuousClock.now
                guard done == total || now - lastDraw > .milliseconds(100) else { return }
                lastDraw = now
                let seconds = Self.seconds(now - start)
                let rate = seconds > 0 ? Double(done) / seconds : 0
                let left = rate > 0 ? Double(total - done) / rate : 0
                let line = "\(account): \(done)/\(total) messages, \(Int(rate))/s, \(Int(left.rounded(.up)))s left"
                writeStderr("\r\u{1B}[K" + line)
            } else if done == total && account != lastAccount {
                lastAccount = account
                print("\(account): \(total) messages checked")
            }
        }
        if terminal {
            writeStderr("\r\u{1B}[K")
        }
        let problems = self.skipSizeCheck ? report.problems.filter { $0.kind != .sizeMismatch } : report.problems
        for problem in problems {
            print(problem)
        }
        let elapsed = Self.seconds(ContinuousClock.now - start)
        print(
            "\(report.accounts) accounts, \(report.mailboxes) mailboxes, \(report.messages) messages, "
                + "\(report.files) files (\(report.bytes) bytes) checked in \(Self.format(elapsed))s: "
                + (problems.isEmpty ? "no problems" : "\(problems.count) problems")
        )
        if !problems.isEmpty {
            throw ExitCode(1)
        }
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private static func format(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
