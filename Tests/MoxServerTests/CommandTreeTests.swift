import ArgumentParser
import MoxCommands
import Testing

@testable import moxserver

@Suite struct CommandTreeTests {
    /// Every command below the root, with its path of names.
    static func walk(_ type: any ParsableCommand.Type, _ path: [String] = []) -> [([String], any ParsableCommand.Type)]
    {
        let subcommands = type.configuration.subcommands
        let here = path + [type._commandName]
        return [(here, type)] + subcommands.flatMap { Self.walk($0, here) }
    }

    @Test func fingerprintStartingWithDashIsPositional() throws {
        let dashed = "-Yl3cYgVf6JfmEjAKh3L2kUa1CqH0Eu4Y_0qYl0tYb8"
        let arguments = Mox.markingDashedFingerprint(["config", "tlspubkey", "rm", dashed])
        #expect(arguments == ["config", "tlspubkey", "rm", "--", dashed])
        let parsed = try Mox.parseAsRoot(arguments)
        #expect((parsed as? ConfigTLSPublicKeyRemove)?.fingerprint == dashed)
        // Help and other commands are left alone.
        #expect(Mox.markingDashedFingerprint(["config", "tlspubkey", "rm", "--help"])
            == ["config", "tlspubkey", "rm", "--help"])
        #expect(Mox.markingDashedFingerprint(["config", "tlspubkey", "add", dashed]).count == 4)
    }

    @Test func everyLeafCommandHasAnImplementation() {
        var leaves = 0
        for (path, type) in Self.walk(Mox.self) where type.configuration.subcommands.isEmpty {
            leaves += 1
            #expect(type is any RunnableCommand.Type, "\(path.joined(separator: " ")) has no execute()")
        }
        #expect(leaves >= 17)
    }

    @Test func groupCommandsDoNoWork() {
        for (path, type) in Self.walk(Mox.self) where !type.configuration.subcommands.isEmpty {
            #expect(!(type is any MoxCommand.Type), "\(path.joined(separator: " ")) has subcommands and work")
        }
    }

    @Test func dumpHelpNamesEveryCommand() {
        let json = Mox._dumpHelp()
        for (path, _) in Self.walk(Mox.self) {
            #expect(json.contains("\"commandName\" : \"\(path.last!)\""), "\(path) missing from the dump")
        }
    }
}
