import ArgumentParser

public struct Serve: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the mail server with mox.conf and domains.conf.",
        discussion: """
            Starts every service enabled on the listeners of mox.conf (see -config) and keeps \
            running until it receives SIGINT or SIGTERM. On a signal, listeners close at once, \
            connections get a few seconds to finish their transaction, and messages in the middle of \
            being received are refused with a temporary error rather than half stored. A message is \
            only acknowledged (250) once it is on disk.

            Services that are enabled in the configuration but not implemented yet are listed at \
            start-up, not silently ignored; see the Roadmap on the website for what exists.
            """
    )

    public init() {}
}

public struct Localserve: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "localserve",
        abstract: "Run a local mail server for developing and testing software that sends email.",
        discussion: """
            The whole server on loopback, with no DNS and no root needed: SMTP, submission and \
            submissions listen on their usual ports plus 1000 (1025, 1587, 1465), and so do IMAP \
            and IMAPS (1143, 1993; log in as mox@localhost); HTTP will do the same once it exists \
            (1080, 1443).

            On first run the directory (see -dir) is created with mox.conf, domains.conf, a \
            self-signed certificate for localhost (localhost.crt and localhost.key) and an account \
            "mox" with address mox@localhost and password moxmoxmox. Later runs reuse it; remove the \
            directory to start over.

            Every message is accepted, for any address, and delivered to the mox account, both \
            incoming (port 1025) and submitted (1587, 1465; authenticate as mox@localhost): software \
            under test can read back exactly what it sent. Submitted messages go through the \
            outgoing queue (see mox queue), which delivers them to the account a moment later, \
            as mox does. A recipient localpart can ask for a \
            failure instead: ending in "temperror" gives a temporary error (451), "permerror" a \
            permanent one (550), three digits such as "552" that reply code (400 to 600), and \
            "timeout" no reply for an hour. The error comes after DATA, or at MAIL FROM or RCPT TO \
            when the localpart starts with "mailfrom" or "rcptto", e.g. rcpttopermerror@localhost.

            A summary of the services with their URLs and credentials is printed at start. SIGINT or \
            SIGTERM stops the server cleanly: messages being received are finished or refused, \
            never half stored.
            """
    )

    @Option(
        name: .customLong("dir", withSingleDash: true),
        help: ArgumentHelp(
            "The directory with the configuration and data; created on first run.",
            valueName: "$userconfigdir/mox-localserve"
        )
    )
    public var dir: String?

    @Option(
        name: .customLong("ip", withSingleDash: true),
        help: ArgumentHelp(
            "Listen on this IP address instead of 127.0.0.1 and ::1; only used when the configuration is written, on first run.",
            valueName: "ip"
        )
    )
    public var ip: String?

    @Flag(
        name: .customLong("initonly", withSingleDash: true),
        help: "Write the configuration files and the account, then exit."
    )
    public var initOnly = false

    public init() {}
}

public struct Stop: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop the running server, letting connections finish first.",
        discussion: """
            Connects to the control socket in the data directory of the configuration (see -config) \
            and asks the server to stop, then waits until it has: listeners close at once, \
            connections get up to 3 seconds to finish their transaction, new commands get a \
            temporary error (421). Prints "mox stopped" when done.
            """
    )

    public init() {}
}
