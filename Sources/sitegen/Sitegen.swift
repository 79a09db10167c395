// sitegen: builds the website, previews it with live reload, and checks its links.

import ArgumentParser
import Dispatch
import FoundationEssentials
import MailConfig
import MoxCommands
import SiteBuilder

#if canImport(Glibc)
import Glibc
#endif

@main
enum Sitegen {
    static let usage = """
        usage: sitegen [build] [--out DIR] [SOURCE OPTIONS]
               sitegen serve [--port 8080] [--out DIR] [--interval MS] [SOURCE OPTIONS]
               sitegen check [DIR]

        build   Write the whole site (default website/html under the root), replacing it in one step.
        serve   Build, serve the site on 127.0.0.1, rebuild when sources change and reload open pages.
        check   Check that every internal link and #anchor in a built site (default website/html)
                resolves; list the broken ones and exit with status 1 if there is any.

        Source options:
          --root DIR            the repository's root, holding website/, README.md and rfc/ (default .)
          --mox PATH            take the command reference from this mox binary's
                                `--experimental-dump-help` (default: the command tree sitegen was
                                built with, the same definitions the mox binary is built from)
          --commands-json FILE  output of `mox --experimental-dump-help`, instead of either
          --commit-date DATE    commit date for the footer (default from git)
          --commit-hash HASH    short commit hash for the footer (default from git)

        With SITEGEN_TIMING=1 in the environment, build prints how long each phase took.

        """

    static func main() {
        // A small hand-written parser: sitegen runs on every site build, and a general
        // argument parser would add a noticeable part of its start-up time.
        var args = Array(CommandLine.arguments.dropFirst())
        var command = "build"
        if let first = args.first, !first.hasPrefix("-") {
            command = first
            args.removeFirst()
        }
        do {
            switch command {
            case "build":
                var options = try CommandOptions(args, allowed: SourceOptions.names + ["out"])
                try Build(sources: SourceOptions(&options), out: options.take("out")).run()
            case "serve":
                var options = try CommandOptions(args, allowed: SourceOptions.names + ["out", "port", "interval"])
                let sources = try SourceOptions(&options)
                try Serve(
                    sources: sources,
                    port: try options.takeInt("port") ?? 8080,
                    out: options.take("out"),
                    interval: try options.takeInt("interval") ?? 250
                ).run()
            case "check":
                let options = try CommandOptions(args, allowed: [], positional: 1)
                try Check(dir: options.positional.first ?? "website/html").run()
            case "help":
                print(Self.usage, terminator: "")
            default:
                throw UsageError("unknown command \"\(command)\"")
            }
        } catch let error as UsageError {
            writeStderr("sitegen: \(error.message)\n\n\(Self.usage)")
            exit(2)
        } catch let error as ExitStatus {
            exit(error.code)
        } catch {
            writeStderr("sitegen: \(error)\n")
            exit(1)
        }
    }
}

struct UsageError: Error {
    var message: String

    init(_ message: String) {
        self.message = message
    }
}

/// Ends the program with a status, after the command has said why.
struct ExitStatus: Error {
    var code: Int32
}

/// `--name value` and `--name=value` options, and positional arguments.
struct CommandOptions {
    private var values: [String: String] = [:]
    private(set) var positional: [String] = []

    init(_ args: [String], allowed: [String], positional maxPositional: Int = 0) throws {
        var rest = args[...]
        while let arg = rest.popFirst() {
            if arg == "-h" || arg == "--help" {
                print(Sitegen.usage, terminator: "")
                throw ExitStatus(code: 0)
            }
            guard arg.hasPrefix("--") else {
                guard self.positional.count < maxPositional else {
                    throw UsageError("unexpected argument \"\(arg)\"")
                }
                self.positional.append(arg)
                continue
            }
            var name = String(arg.dropFirst(2))
            var value: String?
            if let eq = name.firstIndex(of: "=") {
                value = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            guard allowed.contains(name) else {
                throw UsageError("unknown option --\(name)")
            }
            if value == nil {
                guard let next = rest.popFirst() else {
                    throw UsageError("option --\(name) needs a value")
                }
                value = next
            }
            self.values[name] = value
        }
    }

    mutating func take(_ name: String) -> String? {
        self.values.removeValue(forKey: name)
    }

    mutating func takeInt(_ name: String) throws -> Int? {
        guard let text = self.take(name) else {
            return nil
        }
        guard let value = Int(text) else {
            throw UsageError("option --\(name) needs a number, not \"\(text)\"")
        }
        return value
    }
}

/// Options shared by build and serve: where the sources are and what to stamp in the footer.
struct SourceOptions {
    static let names = ["root", "mox", "commands-json", "commit-date", "commit-hash"]

    var root = "."
    var mox: String?
    var commandsJSON: String?
    var commitDate: String?
    var commitHash: String?

    init(_ options: inout CommandOptions) throws {
        self.root = options.take("root") ?? "."
        self.mox = options.take("mox")
        self.commandsJSON = options.take("commands-json")
        self.commitDate = options.take("commit-date")
        self.commitHash = options.take("commit-hash")
    }
}

struct Build {
    var sources: SourceOptions
    var out: String?

    func run() throws {
        let outDir = self.out ?? self.sources.root + "/website/html"
        let timing = Timing()
        let sources = try Inputs.read(self.sources)
        timing.mark("inputs started")
        let pages = try SiteBuilder.build(sources)
        timing.mark("pages rendered")
        try SiteOutput.write(pages, to: outDir)
        timing.mark("written")
    }
}

struct Check {
    var dir: String

    func run() throws {
        do {
            let broken = try LinkChecker.check(directory: self.dir)
            for link in broken {
                print(link)
            }
            if !broken.isEmpty {
                writeStderr("sitegen check: \(broken.count) broken link(s)\n")
                throw ExitStatus(code: 1)
            }
        } catch let error as SiteError {
            writeStderr("sitegen check: \(error)\n")
            throw ExitStatus(code: 2)
        }
    }
}

/// Writes to standard error, unbuffered.
func writeStderr(_ text: String) {
    var text = text
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

/// With SITEGEN_TIMING=1 in the environment, prints how long each phase took (to stderr).
struct Timing {
    let enabled = ProcessInfo.processInfo.environment["SITEGEN_TIMING"] == "1"
    let start = ContinuousClock.now

    func mark(_ what: String) {
        if self.enabled {
            let ms = (ContinuousClock.now - self.start) / .milliseconds(1)
            writeStderr("sitegen: \(what) after \((ms * 100).rounded() / 100) ms\n")
        }
    }
}

/// Reading the sources of a site from disk.
enum Inputs {
    static func read(_ options: SourceOptions) throws -> SiteSources {
        // Start the helper programs first: they run on the other core while files are read.
        let dump = options.commandsJSON == nil ? Self.startCommandTree(options) : nil
        // The footer's commit: from the repository's files when they are in the plain layout
        // GitHead knows, else from git, started now so it runs while pages render.
        let needCommit = options.commitDate == nil || options.commitHash == nil
        let head = needCommit ? GitHead.read(root: options.root) : nil
        let git =
            needCommit && head == nil
            ? Subprocess.Pending(["git", "-C", options.root, "log", "-1", "--date=short", "--format=%cd %h"])
            : nil
        let root = options.root
        func file(_ path: String) throws -> String {
            guard let data = FileManager.default.contents(atPath: root + "/" + path) else {
                throw SiteError("\(path): cannot read file (looked in \(root))")
            }
            return String(decoding: data, as: UTF8.self)
        }
        let sources = SiteSources(
            index: try file("website/index.md"),
            features: try file("website/features/index.md"),
            screenshots: try file("website/screenshots/index.md"),
            install: try file("website/install/index.md"),
            protocolsSummary: try file("website/protocols/summary.md"),
            readme: try file("README.md"),
            rfcIndex: try file("rfc/index.txt"),
            staticConfigExample: { ConfigDescribe.staticExample },
            dynamicConfigExample: { ConfigDescribe.dynamicExample },
            configExamples: { ConfigExample.allCases.map { ($0.rawValue, $0.text) } },
            commands: { [commandsJSON = options.commandsJSON] in try Self.commandTree(commandsJSON, dump) },
            commit: { [date = options.commitDate ?? head?.date, hash = options.commitHash ?? head?.hash] in
                Self.commit(date, hash, git)
            }
        )
        return sources
    }

    /// Runs the mox binary named with --mox; without it the tree comes from MoxCommands, in-process.
    static func startCommandTree(_ options: SourceOptions) -> (String, Subprocess.Pending)? {
        guard let binary = options.mox else { return nil }
        return (binary, Subprocess.Pending([binary, "--experimental-dump-help"]))
    }

    static func commandTree(_ commandsJSON: String?, _ started: (String, Subprocess.Pending)?) throws -> CommandTree {
        if let path = commandsJSON {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw SiteError("\(path): cannot read the command tree file")
            }
            return try CommandTree.decode(Array(data))
        }
        guard let (binary, running) = started else {
            // The definitions mox is built from, linked into sitegen: no process to start, and the
            // reference cannot drift from the binary built from the same sources.
            return try CommandTree.decode(Array(Mox._dumpHelp().utf8))
        }
        let result: Subprocess.Result
        do {
            result = try running.wait()
        } catch {
            throw SiteError("running \(binary) --experimental-dump-help: \(error)")
        }
        guard result.status == 0 else {
            throw SiteError(
                "running \(binary) --experimental-dump-help failed (status \(result.status)): \(result.stderr)"
            )
        }
        return try CommandTree.decode(result.stdout)
    }

    static func commit(_ date: String?, _ hash: String?, _ git: Subprocess.Pending?) -> CommitInfo {
        var info = CommitInfo(date: date ?? "", hash: hash ?? "")
        if let result = try? git?.wait(), result.status == 0 {
            let parts = String(decoding: result.stdout, as: UTF8.self).split(separator: " ")
            if parts.count == 2 {
                if info.date.isEmpty { info.date = String(parts[0]) }
                if info.hash.isEmpty { info.hash = parts[1].filter { !$0.isWhitespace } }
            }
        }
        if info.date.isEmpty { info.date = "unknown date" }
        if info.hash.isEmpty { info.hash = "unknown" }
        return info
    }
}

/// Runs programs with posix_spawn and collects their output. `start` returns at once, so a
/// child runs on the other core while the caller works; `wait` collects it.
enum Subprocess {
    struct Result {
        var status: Int32
        var stdout: [UInt8]
        var stderr: String
    }

    struct SpawnError: Error, CustomStringConvertible {
        var description: String
    }

    final class Running: @unchecked Sendable {
        let pid: pid_t
        let stdoutFD: Int32
        let stderrFD: Int32?

        init(pid: pid_t, stdoutFD: Int32, stderrFD: Int32?) {
            self.pid = pid
            self.stdoutFD = stdoutFD
            self.stderrFD = stderrFD
        }

        /// Reads the output to its end and waits for the exit status.
        func wait() -> Result {
            let out = Subprocess.readAll(self.stdoutFD)
            let err = self.stderrFD.map { Subprocess.readAll($0) } ?? []
            var status: Int32 = 0
            while waitpid(self.pid, &status, 0) < 0 && errno == EINTR {}
            // WIFEXITED / WEXITSTATUS, spelled out: the macros are not imported.
            let exited = status & 0x7f == 0
            return Result(
                status: exited ? (status >> 8) & 0xff : 128 + (status & 0x7f),
                stdout: out,
                stderr: String(decoding: err, as: UTF8.self)
            )
        }
    }

    /// Starts `argv` (looked up in PATH), with standard input from /dev/null. With
    /// `mergeOutput`, standard error goes to the standard output pipe.
    static func start(_ argv: [String], mergeOutput: Bool = false) throws -> Running {
        var outPipe: [Int32] = [0, 0]
        var errPipe: [Int32] = [0, 0]
        guard pipe(&outPipe) == 0, mergeOutput || pipe(&errPipe) == 0 else {
            throw SpawnError(description: "pipe: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, mergeOutput ? outPipe[1] : errPipe[1], 2)
        posix_spawn_file_actions_addclose(&actions, outPipe[0])
        posix_spawn_file_actions_addclose(&actions, outPipe[1])
        if !mergeOutput {
            posix_spawn_file_actions_addclose(&actions, errPipe[0])
            posix_spawn_file_actions_addclose(&actions, errPipe[1])
        }
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        cArgs.append(nil)
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, argv[0], &actions, nil, cArgs, environ)
        close(outPipe[1])
        if !mergeOutput {
            close(errPipe[1])
        }
        guard rc == 0 else {
            close(outPipe[0])
            if !mergeOutput { close(errPipe[0]) }
            throw SpawnError(description: "cannot run \(argv[0]): \(String(cString: strerror(rc)))")
        }
        return Running(pid: pid, stdoutFD: outPipe[0], stderrFD: mergeOutput ? nil : errPipe[0])
    }

    /// A program started on another thread: starting a process suspends the starting thread
    /// until the child has exec'd, which is worth taking off the main path.
    final class Pending: @unchecked Sendable {
        private let done = DispatchSemaphore(value: 0)
        private var result: Swift.Result<Result, any Error> = .failure(SpawnError(description: "not run"))

        init(_ argv: [String]) {
            DispatchQueue.global().async {
                self.result = Swift.Result { try Subprocess.start(argv).wait() }
                self.done.signal()
            }
        }

        func wait() throws -> Result {
            self.done.wait()
            return try self.result.get()
        }
    }

    static func run(_ argv: [String], mergeOutput: Bool = false) throws -> Result {
        try Self.start(argv, mergeOutput: mergeOutput).wait()
    }

    static func readAll(_ fd: Int32) -> [UInt8] {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                data.append(contentsOf: buffer[0..<n])
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                break
            }
        }
        close(fd)
        return data
    }
}
