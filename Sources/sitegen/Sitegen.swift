// sitegen: builds the website, previews it with live reload, and checks its links.

import ArgumentParser
import Foundation
import MailConfig
import SiteBuilder

@main
struct Sitegen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sitegen",
        abstract: "Build, preview and check the project's website.",
        subcommands: [Build.self, Serve.self, Check.self],
        defaultSubcommand: Build.self
    )
}

/// Options shared by build and serve: where the sources are and what to stamp in the footer.
struct SourceOptions: ParsableArguments {
    @Option(help: "The repository's root directory, holding website/, README.md and rfc/.")
    var root: String = "."

    @Option(help: "Path of the mox binary whose command tree becomes the command reference (default: .build/debug/mox under the root, else .build/release/mox, else mox on PATH).")
    var mox: String?

    @Option(help: "A file with the output of `mox --experimental-dump-help`, used instead of running the binary.")
    var commandsJSON: String?

    @Option(help: "Commit date for the footer (default: from git).")
    var commitDate: String?

    @Option(help: "Short commit hash for the footer (default: from git).")
    var commitHash: String?
}

struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the whole site to a directory, replacing it in one step."
    )

    @OptionGroup var sources: SourceOptions

    @Option(help: "Output directory (default: website/html under the root).")
    var out: String?

    func run() throws {
        let outDir = self.out ?? self.sources.root + "/website/html"
        do {
            let pages = try SiteBuilder.build(try Inputs.read(self.sources))
            try SiteOutput.write(pages, to: outDir)
        } catch {
            FileHandle.standardError.write(Data("sitegen: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that every internal link and #anchor in a built site resolves.",
        discussion: "Lists each broken link with its page and target, and exits with status 1 if there is any."
    )

    @Argument(help: "The built site.")
    var dir: String = "website/html"

    func run() throws {
        do {
            let broken = try LinkChecker.check(directory: self.dir)
            for link in broken {
                print(link)
            }
            if !broken.isEmpty {
                FileHandle.standardError.write(Data("sitegen check: \(broken.count) broken link(s)\n".utf8))
                throw ExitCode(1)
            }
        } catch let error as SiteError {
            FileHandle.standardError.write(Data("sitegen check: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}

/// Reading the sources of a site from disk.
enum Inputs {
    static func read(_ options: SourceOptions) throws -> SiteSources {
        let root = options.root
        func file(_ path: String) throws -> String {
            guard let data = FileManager.default.contents(atPath: root + "/" + path) else {
                throw SiteError("\(path): cannot read file (looked in \(root))")
            }
            return String(decoding: data, as: UTF8.self)
        }
        return SiteSources(
            index: try file("website/index.md"),
            features: try file("website/features/index.md"),
            screenshots: try file("website/screenshots/index.md"),
            install: try file("website/install/index.md"),
            protocolsSummary: try file("website/protocols/summary.md"),
            readme: try file("README.md"),
            rfcIndex: try file("rfc/index.txt"),
            staticConfigExample: ConfigDescribe.staticExample,
            dynamicConfigExample: ConfigDescribe.dynamicExample,
            commands: try Self.commandTree(options),
            commit: Self.commit(options)
        )
    }

    static func moxBinary(_ options: SourceOptions) -> String {
        if let mox = options.mox {
            return mox
        }
        for candidate in [".build/debug/mox", ".build/release/mox"] {
            let path = options.root + "/" + candidate
            if FileManager.default.isExecutableFile(atPath: path) {
                return path
            }
        }
        return "mox"
    }

    static func commandTree(_ options: SourceOptions) throws -> CommandTree {
        if let path = options.commandsJSON {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw SiteError("\(path): cannot read the command tree file")
            }
            return try CommandTree.decode(Array(data))
        }
        let binary = Self.moxBinary(options)
        let result = try Subprocess.run([binary, "--experimental-dump-help"])
        guard result.status == 0 else {
            throw SiteError("running \(binary) --experimental-dump-help failed (status \(result.status)): \(result.stderr)")
        }
        return try CommandTree.decode(result.stdout)
    }

    static func commit(_ options: SourceOptions) -> CommitInfo {
        var info = CommitInfo(date: options.commitDate ?? "", hash: options.commitHash ?? "")
        if info.date.isEmpty || info.hash.isEmpty,
            let result = try? Subprocess.run(["git", "-C", options.root, "log", "-1", "--date=short", "--format=%cd %h"]),
            result.status == 0
        {
            let parts = String(decoding: result.stdout, as: UTF8.self).split(separator: " ")
            if parts.count == 2 {
                if info.date.isEmpty { info.date = String(parts[0]) }
                if info.hash.isEmpty { info.hash = parts[1].trimmingCharacters(in: .whitespacesAndNewlines) }
            }
        }
        if info.date.isEmpty { info.date = "unknown date" }
        if info.hash.isEmpty { info.hash = "unknown" }
        return info
    }
}

/// Runs a program and collects its output.
enum Subprocess {
    struct Result {
        var status: Int32
        var stdout: [UInt8]
        var stderr: String
    }

    /// With `mergeOutput`, standard error goes to the same pipe as standard output (for
    /// programs that write a lot to both, like compilers).
    static func run(_ argv: [String], currentDirectory: String? = nil, mergeOutput: Bool = false) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = argv
        if let dir = currentDirectory {
            process.currentDirectoryURL = URL(fileURLWithPath: dir)
        }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = mergeOutput ? out : err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        if mergeOutput {
            try? err.fileHandleForWriting.close()
        }
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        let stderrData = mergeOutput ? Data() : err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: Array(stdoutData),
            stderr: String(decoding: stderrData, as: UTF8.self)
        )
    }
}
