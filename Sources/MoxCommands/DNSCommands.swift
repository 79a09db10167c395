import ArgumentParser

public struct DNSCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "dns",
        abstract: "Look up DNS records as the server sees them.",
        subcommands: [DNSLookup.self]
    )

    public init() {}
}

public struct DNSLookup: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lookup",
        abstract: "Look up DNS records of a type for a name, and say whether the answer was DNSSEC-protected.",
        discussion: """
            The type is one of ptr, mx, cname, ips, a, aaaa, ns, txt, srv and tlsa; for ptr the name is an \
            IP address. Names are always absolute (no search domains), and may contain underscores, e.g. \
            `mox dns lookup txt _dmarc.example.org` or `mox dns lookup tlsa _25._tcp.mx.example.org`. \
            The query goes to the servers of /etc/resolv.conf ($MOXRESOLVCONF names another file, for \
            tests), as the server's own lookups do. "with dnssec" means the resolver set the authentic \
            data bit: trust it only from a validating resolver on the same host, such as unbound.
            """
    )

    @Argument(help: ArgumentHelp("ptr, mx, cname, ips, a, aaaa, ns, txt, srv or tlsa.", valueName: "type"))
    public var type: String

    @Argument(help: ArgumentHelp("The name to look up, or for ptr the IP address.", valueName: "name"))
    public var name: String

    public init() {}
}
