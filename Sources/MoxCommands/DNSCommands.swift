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

public struct SPFCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "spf",
        abstract: "Parse, look up and evaluate SPF records.",
        subcommands: [SPFCheck.self, SPFLookup.self, SPFParse.self]
    )

    public init() {}
}

public struct SPFCheck: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check whether an IP may send mail for a domain, by the SPF policy it publishes.",
        discussion: """
            Evaluates the domain's SPF record for the IP as the SMTP server does for MAIL FROM:<user@domain> \
            (RFC 7208), and prints the result (pass, fail, softfail, neutral, none, temperror or permerror) \
            with whether the DNS answers were DNSSEC-protected, the mechanism that matched, and for fail the \
            policy's explanation if it has one.
            """
    )

    @Argument(help: ArgumentHelp("The domain whose policy is checked.", valueName: "domain"))
    public var domain: String

    @Argument(help: ArgumentHelp("The IP address of the sending server.", valueName: "ip"))
    public var ip: String

    public init() {}
}

public struct SPFLookup: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lookup",
        abstract: "Look up the SPF record of a domain and print it."
    )

    @Argument(help: ArgumentHelp("The domain.", valueName: "domain"))
    public var domain: String

    public init() {}
}

public struct SPFParse: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Parse a text as SPF record: nothing is printed when it is valid, else the error (exit status 1)."
    )

    @Argument(help: ArgumentHelp("The record, e.g. \"v=spf1 mx -all\".", valueName: "txtrecord"))
    public var record: String

    public init() {}
}
