import CrashTestSupport
import Glibc
import Testing

@testable import MailStore

/// The crash test: a child process (`mox-crashtest`, built beside this test binary) delivers 1,000
/// messages and prints each one the store acknowledged; it is killed with SIGKILL part-way, and then
/// every acknowledged message must be there with exactly its bytes, and no partial message visible.
@Suite(.serialized) struct CrashTests {
    static let total = 1000

    /// The message number in a stored message's Subject, if it has one.
    static func number(in bytes: [UInt8]) -> Int? {
        let marker = Array("Subject: crash test ".utf8)
        guard bytes.count > marker.count else { return nil }
        for start in 0...(bytes.count - marker.count) where bytes[start..<(start + marker.count)].elementsEqual(marker)
        {
            let digits = bytes[(start + marker.count)...].prefix(while: { $0 >= 0x30 && $0 <= 0x39 })
            return Int(String(decoding: digits, as: UTF8.self))
        }
        return nil
    }

    struct Acknowledged: Hashable {
        var n: Int
        var id: Int64
        var uid: UInt32
    }

    /// Runs `mox verifydata DATADIR` (built beside this test binary) and returns its exit status
    /// and output.
    static func moxVerifyData(_ dataDir: String) throws -> (Int32, String) {
        let mox = try self.helperPath(named: "mox")
        let (pid, fd) = try self.spawn(mox, ["verifydata", dataDir])
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            output.append(contentsOf: buffer[0..<n])
        }
        close(fd)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7f) == 0
        return (exited ? (status >> 8) & 0xff : -1, String(decoding: output, as: UTF8.self))
    }

    /// Path of an executable of this package: next to the running test binary.
    static func helperPath(named name: String = "mox-crashtest") throws -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { throw TestFailure("readlink /proc/self/exe failed") }
        let exe = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var dir = exe
        while let last = dir.last, last != "/" { dir.removeLast() }
        // swift test runs the .xctest file directly, or a directory bundle on some platforms.
        if dir.hasSuffix(".xctest/") {
            dir.removeLast()
            while let last = dir.last, last != "/" { dir.removeLast() }
        }
        let path = dir + name
        guard access(path, X_OK) == 0 else {
            throw TestFailure("\(path) not found: build it with `swift build --build-tests` (it builds all targets)")
        }
        return path
    }

    /// Starts the helper with its stdout on a pipe; returns its pid and the pipe's read end.
    static func spawn(_ path: String, _ arguments: [String]) throws -> (pid_t, Int32) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw TestFailure("pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, path, &actions, nil, argv, environ)
        close(fds[1])
        guard status == 0 else {
            close(fds[0])
            throw TestFailure("posix_spawn \(path): \(status)")
        }
        return (pid, fds[0])
    }

    /// Reads the child's lines until `killAfter` acknowledgements (then SIGKILL) or its exit.
    /// Returns what was acknowledged and whether the child was killed.
    static func run(helper: String, dataDir: String, killAfter: Int) throws -> ([Acknowledged], killed: Bool) {
        let (pid, fd) = try self.spawn(helper, [dataDir, String(self.total), "8"])
        var killed = false
        defer {
            if !killed { kill(pid, SIGKILL) }
            close(fd)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        var acknowledged: [Acknowledged] = []
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = ContinuousClock.now + .seconds(20)
        readLoop: while acknowledged.count < killAfter {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard ContinuousClock.now < deadline else { throw TestFailure("child did not make progress") }
            let ready = poll(&poller, 1, 1000)
            if ready < 0 && errno == EINTR { continue }
            if ready == 0 { continue }
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break readLoop }
            pending.append(contentsOf: buffer[0..<n])
            while let newline = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                let fields = line.split(separator: " ")
                guard fields.count == 3, let n = Int(fields[0]), let id = Int64(fields[1]), let uid = UInt32(fields[2])
                else { throw TestFailure("bad line from child: \(line)") }
                acknowledged.append(Acknowledged(n: n, id: id, uid: uid))
            }
        }
        if acknowledged.count >= killAfter {
            kill(pid, SIGKILL)
            killed = true
        }
        return (acknowledged, killed)
    }

    @Test func acknowledgedMessagesSurviveSIGKILL() async throws {
        let helper = try Self.helperPath()
        var random = SystemRandomNumberGenerator()
        var killPoints = (0..<4).map { _ in Int.random(in: 20...(Self.total - 50), using: &random) }
        killPoints[0] = Int.random(in: 1...20, using: &random)  // early, while the first batches commit
        var killedRounds = 0
        for killAfter in killPoints {
            let dir = try TemporaryDirectory()
            let (acknowledged, killed) = try Self.run(helper: helper, dataDir: dir.path, killAfter: killAfter)
            if killed { killedRounds += 1 }
            let context = "kill after \(killAfter) acknowledgements, \(acknowledged.count) seen"

            // Before anything cleans up: only leftover files may be wrong, never a visible message.
            let before = DataVerifier.verify(dataDir: dir.path)
            let serious = before.problems.filter { $0.kind != .orphanFile && $0.kind != .tempFile }
            #expect(serious == [], "\(context): \(serious)")
            let (statusBefore, outputBefore) = try Self.moxVerifyData(dir.path)
            #expect(statusBefore == (before.problems.isEmpty ? 0 : 1), "\(context): mox verifydata: \(outputBefore)")

            // Opening the account (nobody else has it) removes the leftovers; then nothing is wrong.
            let account = try await makeAccount(dir)
            let box = try await inbox(account)
            let after = DataVerifier.verify(dataDir: dir.path)
            #expect(after.problems == [], "\(context): \(after.problems)")
            let (status, output) = try Self.moxVerifyData(dir.path)
            #expect(status == 0, "\(context): mox verifydata: \(output)")

            // Every acknowledged message is there, under its id and UID, with exactly its bytes.
            for ack in acknowledged {
                let stored = try await account.message(MessageID(ack.id))
                #expect(stored.uid == UID(ack.uid), "\(context): message \(ack.n)")
                let bytes = try await account.messageBytes(MessageID(ack.id))
                #expect(bytes == crashTestMessage(ack.n), "\(context): message \(ack.n) differs")
            }
            // Every visible message is complete: acknowledged ones, and ones committed before the
            // child could print them.
            let visible = try await account.messageFlags(in: box)
            #expect(visible.count >= acknowledged.count, "\(context)")
            var numbers = Set<Int>()
            for entry in visible {
                let bytes = try await account.messageBytes(entry.id)
                let n = try #require(Self.number(in: bytes), "\(context): message \(entry.id) has no number")
                #expect(bytes == crashTestMessage(n), "\(context): visible message \(n) is not complete")
                #expect(numbers.insert(n).inserted, "\(context): message \(n) visible twice")
            }
            #expect(Set(acknowledged.map(\.n)).isSubset(of: numbers), "\(context)")
            await account.close()
        }
        #expect(killedRounds > 0, "the child finished before every kill point")
    }
}
