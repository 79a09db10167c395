// The command tree holds only what a command accepts and says about itself: names, arguments,
// help. What a command does lives in the `mox` executable, which installs one handler before it
// parses the command line. That way the tree can be read (for `--experimental-dump-help`, and by
// sitegen for the command reference) without loading the store, the server and their dependencies.

import ArgumentParser

/// A command that does work. Group commands (those with subcommands only) stay plain
/// `ParsableCommand`s, whose run() prints their help.
public protocol MoxCommand: ParsableCommand {}

extension MoxCommand {
    public mutating func run() throws {
        try CommandHandler.run(self)
    }
}

/// Where parsed commands go to be carried out.
public enum CommandHandler {
    /// Set once by the executable, before parsing; a command parsed without it fails with exit
    /// status 2 and a message, as a program that only reads the tree has nothing to run.
    nonisolated(unsafe) public static var handler: ((any MoxCommand) throws -> Void)?

    static func run(_ command: any MoxCommand) throws {
        guard let handler = Self.handler else {
            throw ValidationError("this program only describes the mox commands; run them with mox")
        }
        try handler(command)
    }
}

/// The version printed by `mox version`.
public let moxVersion = "v0.1.0-dev"
