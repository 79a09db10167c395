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

public struct DKIMCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "dkim",
        abstract: "Generate DKIM keys, print their DNS records, and sign and verify messages.",
        subcommands: [DKIMGenEd25519.self, DKIMGenRSA.self, DKIMTXT.self, DKIMLookup.self, DKIMVerify.self, DKIMSign.self]
    )

    public init() {}
}

public struct DKIMGenEd25519: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gened25519",
        abstract: "Generate an Ed25519 private key for DKIM, printed in PEM (PKCS#8).",
        discussion: """
            Usually redirected to a file: `mox dkim gened25519 >$selector._domainkey.$domain.ed25519.privatekey.pkcs8.pem`. \
            Ed25519 keys are small, which suits DNS, but not every receiver verifies them yet (RFC 8463): sign with \
            an RSA key as well.
            """
    )

    public init() {}
}

public struct DKIMGenRSA: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "genrsa",
        abstract: "Generate a 2048-bit RSA private key for DKIM, printed in PEM (PKCS#8).",
        discussion: "Usually redirected to a file: `mox dkim genrsa >$selector._domainkey.$domain.rsa2048.privatekey.pkcs8.pem`."
    )

    public init() {}
}

public struct DKIMTXT: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "txt",
        abstract: "Print the DNS TXT record for the DKIM private key read from standard input.",
        discussion: """
            The record goes at $selector._domainkey.$domain, e.g. `mox dkim txt <key.pem`. It is printed in \
            strings of at most 100 characters, as zone files take long TXT records.
            """
    )

    public init() {}
}

public struct DKIMLookup: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lookup",
        abstract: "Look up and print the DKIM key record of a selector at a domain."
    )

    @Argument(help: ArgumentHelp("The selector.", valueName: "selector"))
    public var selector: String

    @Argument(help: ArgumentHelp("The domain.", valueName: "domain"))
    public var domain: String

    public init() {}
}

public struct DKIMVerify: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify the DKIM signatures of a message file and print each result.",
        discussion: """
            Looks up each signature's key in DNS. Old messages may no longer verify: keys get replaced and \
            signatures expire.
            """
    )

    @Argument(help: ArgumentHelp("The message file.", valueName: "messagefile"))
    public var file: String

    public init() {}
}

public struct DKIMSign: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a message file with the DKIM selectors configured for the domain of its From address.",
        discussion: "Prints the message with the DKIM-Signature header fields in front. Reads mox.conf and domains.conf."
    )

    @Argument(help: ArgumentHelp("The message file.", valueName: "messagefile"))
    public var file: String

    public init() {}
}

public struct DMARCCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "dmarc",
        abstract: "Look up DMARC policies and evaluate messages against them.",
        subcommands: [DMARCLookup.self, DMARCVerify.self]
    )

    public init() {}
}

public struct DMARCLookup: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lookup",
        abstract: "Look up the DMARC policy of a domain, validate it and print it.",
        discussion: """
            The policy is the TXT record at _dmarc.<domain>; without one there, the record of the \
            organizational domain (RFC 7489 6.6.3, found with the public suffix list of Debian's \
            publicsuffix package) applies.
            """
    )

    @Argument(help: ArgumentHelp("The domain, as in a message's From address.", valueName: "domain"))
    public var domain: String

    public init() {}
}

public struct DMARCVerify: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Evaluate a message read from standard input against the DMARC policy of its From domain.",
        discussion: """
            The message's DKIM signatures are verified, and SPF is checked for the remote IP with the \
            MAIL FROM address (or, when it is empty, the HELO domain), as the SMTP server would have \
            done when the message arrived; both are found in the message's Received and Return-Path \
            headers. With both empty, SPF is skipped. Prints each result and the DMARC verdict.
            """
    )

    @Argument(help: ArgumentHelp("The IP address of the server that delivered the message.", valueName: "remoteip"))
    public var remoteIP: String

    @Argument(help: ArgumentHelp("The MAIL FROM address; empty for a bounce.", valueName: "mailfromaddress"))
    public var mailFrom: String

    @Argument(help: ArgumentHelp("The domain the server gave in EHLO.", valueName: "helodomain"))
    public var helo: String

    public init() {}
}

public struct DNSBLCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "dnsbl",
        abstract: "Look up IP addresses in DNS blocklists and check that a blocklist works.",
        subcommands: [DNSBLCheck.self, DNSBLCheckHealth.self]
    )

    public init() {}
}

public struct DNSBLCheck: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Look up an IP address in a DNS blocklist zone and print whether it is listed.",
        discussion: """
            Prints "status: pass" when the address is not listed, "status: fail" and the list's \
            explanation (its TXT record) when it is, and "status: temperror" with the error when the \
            lookup failed (RFC 5782).
            """
    )

    @Argument(help: ArgumentHelp("The blocklist's zone, e.g. sbl.spamhaus.org.", valueName: "zone"))
    public var zone: String

    @Argument(help: ArgumentHelp("The IPv4 or IPv6 address.", valueName: "ip"))
    public var ip: String

    public init() {}
}

public struct DNSBLCheckHealth: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "checkhealth",
        abstract: "Check that a DNS blocklist answers as a working list must.",
        discussion: """
            RFC 5782 5: a list has the test entry 127.0.0.2 and never lists 127.0.0.1. Prints "healthy", \
            or the problem and exits with status 1.
            """
    )

    @Argument(help: ArgumentHelp("The blocklist's zone.", valueName: "zone"))
    public var zone: String

    public init() {}
}
