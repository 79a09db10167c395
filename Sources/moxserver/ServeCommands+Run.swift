import ArgumentParser
import FoundationEssentials
import Logging
import MailLog
import MailConfig
import MoxCommands
import MoxRuntime

#if canImport(Glibc)
import Glibc
#endif

extension Serve: RunnableCommand {
    func execute() throws {
        let config = try loadConfig()
        try runAsync { () async throws in
            try await runServer(config, localserve: false)
        }
    }
}

extension Stop: RunnableCommand {
    func execute() throws {
        let config = try loadConfig()
        do {
            try MoxControl.stop(dataDir: config.dataDirectory)
        } catch {
            try fail(error.description)
        }
        print("mox stopped")
    }
}

extension Localserve: RunnableCommand {
    func execute() throws {
        let dir = self.dir ?? LocalserveSetup.defaultDirectory
        let (ip, initOnly) = (self.ip, self.initOnly)
        let exists = access(dir + "/mox.conf", F_OK) == 0
        if exists && ip != nil && !initOnly {
            try fail("-ip only applies when the configuration is written, on first run; \(dir) exists already")
        }
        if !exists {
            writeStderr("mox localserve: creating configuration in \(dir)\n")
            try runAsync { () async throws in
                try await LocalserveSetup.write(dir: dir, ip: ip)
            }
        } else if initOnly {
            try fail("\(dir)/mox.conf exists already; remove the directory to start over")
        }
        if initOnly {
            print("configuration written to \(dir)")
            return
        }
        let config: Config
        do {
            config = try ConfigLoader.load(staticPath: dir + "/mox.conf")
        } catch {
            try fail(
                "loading \(dir)/mox.conf (when creating a new configuration with -dir, the directory must not exist yet):\n\(error)"
            )
        }
        try runAsync { () async throws in
            try await runServer(config, localserve: true, dir: dir, existing: exists)
        }
    }
}

/// Starts the server, prints what runs (and, for localserve, how to use it), and waits for a stop.
func runServer(_ config: Config, localserve: Bool, dir: String = "", existing: Bool = true) async throws {
    let server = try MoxServer(config: config, localserve: localserve)
    // Libraries (SwiftNIO, Hummingbird) log through the same handler, with mox.conf's levels.
    let levels = server.logLevels
    LoggingSystem.bootstrap { MoxLogHandler(label: $0, levels: levels) }
    let (started, missing) = try await server.start()
    var lines: [String] = []
    if localserve {
        lines += [
            "mox localserve \(moxVersion) \(platformName)",
            "",
            "the account is mox@localhost, with password moxmoxmox",
            "port numbers are the usual ones + 1000; tls uses the self-signed certificate \(dir)/localhost.crt",
            "all mail to any address is accepted into the account, unless the recipient localpart ends with:",
            "- \"temperror\": a temporary error (451)",
            "- \"permerror\": a permanent error (550)",
            "- three digits from 400 to 600, e.g. \"552\": that reply code",
            "- \"timeout\": no reply (for an hour)",
            "the error comes after DATA, or at MAIL FROM / RCPT TO when the localpart starts with",
            "\"mailfrom\" or \"rcptto\" (e.g. rcpttopermerror@localhost).",
            "",
            " smtp://localhost:1025                            - receive mail",
            "smtps://mox%40localhost:moxmoxmox@localhost:1465  - send mail",
            " smtp://mox%40localhost:moxmoxmox@localhost:1587  - send mail (STARTTLS optional)",
            "imaps://mox%40localhost:moxmoxmox@localhost:1993  - read email",
            " imap://mox%40localhost:moxmoxmox@localhost:1143  - read email (STARTTLS optional)",
            " http://localhost:1080/workdir/                   - files of the current directory (domains.conf WebHandlers)",
            " http://localhost:1081/metrics                    - prometheus metrics",
            "",
        ]
    }
    for endpoint in started {
        lines.append("serving \(endpoint)")
    }
    for service in missing {
        lines.append("not started: \(service)")
    }
    if localserve {
        lines.append("")
        lines.append(existing ? "serving from existing directory \(dir)/" : "serving from new directory \(dir)/")
    }
    // Unbuffered, so that a program that started the server sees the summary at once.
    var summary = lines.joined(separator: "\n") + "\n"
    summary.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
    await server.runUntilStopped()
    print("mox stopped")
}
