import ArgumentParser
import FoundationEssentials
import MailStore
import MoxCommands

#if canImport(Glibc)
import Glibc
#endif

extension VerifyData: RunnableCommand {
    func execute() throws {
        guard access(self.dataDir + "/accounts", F_OK) == 0 else {
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
