import Foundation
import Testing

@testable import SiteBuilder

struct GitHeadTests {
    @Test func civilDates() {
        #expect(GitHead.civilDate(0) == "1970-01-01")
        #expect(GitHead.civilDate(-1) == "1969-12-31")
        #expect(GitHead.civilDate(951_782_400) == "2000-02-29")
        #expect(GitHead.civilDate(951_868_799) == "2000-02-29")
        #expect(GitHead.civilDate(4_102_444_800) == "2100-01-01")
        #expect(GitHead.civilDate(1_764_633_600) == "2025-12-02")
    }

    /// Runs git in `dir` with a fixed identity, returning its standard output.
    @discardableResult
    static func git(_ dir: String, _ args: [String], env: [String: String] = [:]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git", "-C", dir, "-c", "user.name=T", "-c", "user.email=t@example.org"] + args
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        p.environment = environment
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw SiteError("git \(args) failed") }
        return String(decoding: data, as: UTF8.self)
    }

    static func expected(_ dir: String) throws -> String {
        try git(dir, ["log", "-1", "--date=short", "--format=%cd %h"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func read(_ dir: String) -> String? {
        GitHead.read(root: dir).map { "\($0.date) \($0.hash)" }
    }

    @Test func matchesGitForLooseAndPackedObjectsAndRefs() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("githead-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.git(dir, ["init", "-q", "-b", "main"])
        for i in 0..<3 {
            try "file \(i)\n".write(toFile: dir + "/f\(i)", atomically: true, encoding: .utf8)
            try Self.git(dir, ["add", "."])
            // Late evening west of UTC: the committer's own date, a day before UTC's.
            try Self.git(
                dir, ["commit", "-q", "-m", "commit \(i)"],
                env: ["GIT_COMMITTER_DATE": "2001-02-0\(i + 3)T23:30:00 -0800", "GIT_AUTHOR_DATE": "2000-01-01T00:00:00 +0000"]
            )
        }
        // Loose objects and a loose ref.
        #expect(Self.read(dir) == (try Self.expected(dir)))
        #expect(Self.read(dir)?.hasPrefix("2001-02-05 ") == true)
        // Everything packed, refs too (as in a fresh clone).
        try Self.git(dir, ["gc", "-q"])
        #expect(!FileManager.default.fileExists(atPath: dir + "/.git/refs/heads/main"))
        #expect(Self.read(dir) == (try Self.expected(dir)))
        // A detached HEAD naming the middle commit.
        try Self.git(dir, ["checkout", "-q", "--detach", "HEAD~1"])
        #expect(Self.read(dir) == (try Self.expected(dir)))
        #expect(Self.read(dir)?.hasPrefix("2001-02-04 ") == true)
        // A configured abbreviation is left to git.
        try Self.git(dir, ["config", "core.abbrev", "12"])
        #expect(Self.read(dir) == nil)
    }

    @Test func notARepositoryIsNil() {
        #expect(GitHead.read(root: "/nonexistent-\(UUID().uuidString)") == nil)
    }
}
