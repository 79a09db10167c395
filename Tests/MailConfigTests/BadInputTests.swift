import MailConfig
import Testing

/// A small valid pair of files that the cases below break in one place each.
let baseStatic = """
    DataDir: data
    LogLevel: info
    Hostname: mail.example.org
    Listeners:
    \tl:
    \t\tIPs:
    \t\t\t- 127.0.0.1
    \t\tSMTP:
    \t\t\tEnabled: true
    \t\t\tNoSTARTTLS: true
    Postmaster:
    \tAccount: mjl
    \tMailbox: Inbox

    """

let baseDynamic = """
    Domains:
    \texample.org:
    \t\tDKIM:
    \t\t\tSelectors:
    \t\t\t\ts1:
    \t\t\t\t\tPrivateKeyFile: s1.pem
    \t\t\tSign:
    \t\t\t\t- s1
    Accounts:
    \tmjl:
    \t\tDomain: example.org
    \t\tDestinations:
    \t\t\tmjl@example.org: nil

    """

/// One broken input and the error it must give.
struct BadCase: CustomTestStringConvertible, Sendable {
    var name: String
    var staticText = baseStatic
    var dynamicText = baseDynamic
    /// Which file the error is in.
    var file = "mox.conf"
    /// Text on the line the error must point at; nil for line 0.
    var at: String?
    var fieldPath: String
    /// A word the reason must contain.
    var word: String

    var testDescription: String { self.name }

    init(
        _ name: String,
        static s: (String, String)? = nil,
        dynamic d: (String, String)? = nil,
        file: String = "mox.conf",
        at: String?,
        fieldPath: String,
        word: String
    ) {
        self.name = name
        if let (old, new) = s {
            precondition(baseStatic.contains(old), "\(name): \(old) not in the base mox.conf")
            self.staticText = baseStatic.replacingOccurrences(of: old, with: new)
        }
        if let (old, new) = d {
            precondition(baseDynamic.contains(old), "\(name): \(old) not in the base domains.conf")
            self.dynamicText = baseDynamic.replacingOccurrences(of: old, with: new)
        }
        self.file = file
        self.at = at
        self.fieldPath = fieldPath
        self.word = word
    }
}

extension String {
    fileprivate func replacingOccurrences(of old: String, with new: String) -> String {
        self.split(separator: old, omittingEmptySubsequences: false).joined(separator: new)
    }
}

let badCases: [BadCase] = [
    // Syntax and schema, found by the parser.
    BadCase(
        "unknown field",
        static: ("LogLevel: info\n", "LogLevel: info\nLogFormat: json\n"),
        at: "LogFormat",
        fieldPath: "LogFormat",
        word: "unknown key"
    ),
    BadCase(
        "unknown field, wrong case",
        static: ("Hostname:", "HostName:"),
        at: "HostName",
        fieldPath: "HostName",
        word: "case-sensitive"
    ),
    BadCase(
        "wrong type for int",
        static: ("\t\t\tEnabled: true\n", "\t\t\tEnabled: true\n\t\t\tPort: twentyfive\n"),
        at: "Port:",
        fieldPath: "Listeners.l.SMTP.Port",
        word: "whole number"
    ),
    BadCase(
        "int out of range",
        static: ("\t\t\tEnabled: true\n", "\t\t\tEnabled: true\n\t\t\tPort: 99999999999999999999\n"),
        at: "Port:",
        fieldPath: "Listeners.l.SMTP.Port",
        word: "whole number"
    ),
    BadCase(
        "wrong type for bool",
        static: ("Enabled: true", "Enabled: yes"),
        at: "Enabled",
        fieldPath: "Listeners.l.SMTP.Enabled",
        word: "true or false"
    ),
    BadCase(
        "wrong type for duration",
        static: ("\t\t\tEnabled: true\n", "\t\t\tEnabled: true\n\t\t\tFirstTimeSenderDelay: 15\n"),
        at: "FirstTimeSenderDelay",
        fieldPath: "Listeners.l.SMTP.FirstTimeSenderDelay",
        word: "duration"
    ),
    BadCase(
        "missing required field at top",
        static: ("Hostname: mail.example.org\n", ""),
        at: nil,
        fieldPath: "",
        word: "missing required key \"Hostname\""
    ),
    BadCase(
        "missing required nested field",
        static: ("\tMailbox: Inbox\n", ""),
        at: "Postmaster:",
        fieldPath: "Postmaster",
        word: "missing required key \"Mailbox\""
    ),
    BadCase(
        "indentation with spaces",
        static: ("\tAccount: mjl", "    Account: mjl"),
        at: "Account: mjl",
        fieldPath: "Postmaster",
        word: "tab"
    ),
    BadCase(
        "indentation too deep",
        static: ("\tAccount: mjl", "\t\tAccount: mjl"),
        at: "Account: mjl",
        fieldPath: "Postmaster",
        word: "too deep"
    ),
    BadCase(
        "value on key line for a map",
        static: ("Listeners:\n", "Listeners: l\n"),
        at: "Listeners",
        fieldPath: "Listeners",
        word: "key's line"
    ),
    BadCase(
        "duplicate key",
        static: ("LogLevel: info\n", "LogLevel: info\nLogLevel: debug\n"),
        at: "LogLevel: debug",
        fieldPath: "LogLevel",
        word: "duplicate"
    ),
    BadCase(
        "missing space after colon",
        static: ("LogLevel: info", "LogLevel:info"),
        at: "LogLevel",
        fieldPath: "",
        word: "space after colon"
    ),
    BadCase(
        "list item without dash",
        static: ("\t\t\t- 127.0.0.1", "\t\t\t127.0.0.1"),
        at: "127.0.0.1",
        fieldPath: "Listeners.l.IPs",
        word: "\"-\""
    ),

    // mox.conf semantics.
    BadCase(
        "bad log level",
        static: ("LogLevel: info", "LogLevel: verbose"),
        at: "LogLevel",
        fieldPath: "LogLevel",
        word: "log level"
    ),
    BadCase(
        "empty log level",
        static: ("LogLevel: info", "LogLevel:"),
        at: "LogLevel",
        fieldPath: "LogLevel",
        word: "log level"
    ),
    BadCase(
        "bad package log level",
        static: ("LogLevel: info\n", "LogLevel: info\nPackageLogLevels:\n\tsmtpserver: loud\n"),
        at: "smtpserver",
        fieldPath: "PackageLogLevels.smtpserver",
        word: "log level"
    ),
    BadCase(
        "hostname not lower case",
        static: ("Hostname: mail.example.org", "Hostname: Mail.Example.org"),
        at: "Hostname",
        fieldPath: "Hostname",
        word: "lower case"
    ),
    BadCase(
        "hostname is an IP",
        static: ("Hostname: mail.example.org", "Hostname: 192.0.2.1"),
        at: "Hostname",
        fieldPath: "Hostname",
        word: "IP address"
    ),
    BadCase(
        "bad listener IP",
        static: ("- 127.0.0.1", "- 127.0.0"),
        at: "127.0.0",
        fieldPath: "Listeners.l.IPs[0]",
        word: "IP address"
    ),
    BadCase(
        "bad IPv6 listener IP",
        static: ("- 127.0.0.1", "- 2001:db8:::1"),
        at: "2001:db8",
        fieldPath: "Listeners.l.IPs[0]",
        word: "IP address"
    ),
    BadCase(
        "port out of range",
        static: ("\t\t\tEnabled: true\n", "\t\t\tEnabled: true\n\t\t\tPort: 65536\n"),
        at: "Port:",
        fieldPath: "Listeners.l.SMTP.Port",
        word: "range"
    ),
    BadCase(
        "service needing TLS without TLS",
        static: ("Postmaster:", "\t\tIMAPS:\n\t\t\tEnabled: true\nPostmaster:"),
        at: "IMAPS",
        fieldPath: "Listeners.l.IMAPS",
        word: "TLS"
    ),
    BadCase(
        "SMTP with STARTTLS needs TLS",
        static: ("\t\t\tNoSTARTTLS: true\n", ""),
        at: "SMTP:",
        fieldPath: "Listeners.l.SMTP",
        word: "TLS"
    ),
    BadCase(
        "unknown ACME provider",
        static: ("\t\tSMTP:", "\t\tTLS:\n\t\t\tACME: letsencrypt\n\t\tSMTP:"),
        at: "ACME:",
        fieldPath: "Listeners.l.TLS.ACME",
        word: "unknown ACME"
    ),
    BadCase(
        "TLS without ACME or KeyCerts",
        static: ("\t\tSMTP:", "\t\tTLS:\n\t\t\tMinVersion: TLSv1.2\n\t\tSMTP:"),
        at: "TLS:",
        fieldPath: "Listeners.l.TLS",
        word: "ACME or KeyCerts"
    ),
    BadCase(
        "bad TLS version",
        static: (
            "\t\tSMTP:",
            "\t\tTLS:\n\t\t\tKeyCerts:\n\t\t\t\t-\n\t\t\t\t\tCertFile: c\n\t\t\t\t\tKeyFile: k\n"
                + "\t\t\tMinVersion: TLS1.3\n\t\tSMTP:"
        ),
        at: "MinVersion",
        fieldPath: "Listeners.l.TLS.MinVersion",
        word: "TLS version"
    ),
    BadCase(
        "transport with two methods",
        static: (
            "Postmaster:",
            "Transports:\n\tt:\n\t\tDirect:\n\t\t\tDisableIPv4: true\n\t\tFail:\n\t\t\tSMTPCode: 554\nPostmaster:"
        ),
        at: "\tt:",
        fieldPath: "Transports.t",
        word: "one method"
    ),
    BadCase(
        "unknown SASL mechanism",
        static: (
            "Postmaster:",
            "Transports:\n\tt:\n\t\tSubmission:\n\t\t\tHost: smtp.example.net\n\t\t\tAuth:\n"
                + "\t\t\t\tUsername: u\n\t\t\t\tPassword: p\n\t\t\t\tMechanisms:\n\t\t\t\t\t- LOGIN\nPostmaster:"
        ),
        at: "- LOGIN",
        fieldPath: "Transports.t.Submission.Auth.Mechanisms[0]",
        word: "mechanism"
    ),

    // domains.conf semantics, and mox.conf references checked against it.
    BadCase(
        "unknown account in Postmaster",
        static: ("Account: mjl", "Account: nobody"),
        at: "Account: nobody",
        fieldPath: "Postmaster.Account",
        word: "unknown account"
    ),
    BadCase(
        "DKIM selector missing",
        dynamic: ("\t\t\t\t- s1", "\t\t\t\t- s2"),
        file: "domains.conf",
        at: "- s2",
        fieldPath: "Domains.example.org.DKIM.Sign[0]",
        word: "selector"
    ),
    BadCase(
        "DKIM bad hash",
        dynamic: ("\t\t\t\t\tPrivateKeyFile", "\t\t\t\t\tHash: md5\n\t\t\t\t\tPrivateKeyFile"),
        file: "domains.conf",
        at: "Hash",
        fieldPath: "Domains.example.org.DKIM.Selectors.s1.Hash",
        word: "hash"
    ),
    BadCase(
        "domain not lower case",
        dynamic: ("\texample.org:", "\tExample.org:"),
        file: "domains.conf",
        at: "Example.org",
        fieldPath: "Domains.Example.org",
        word: "lower case"
    ),
    BadCase(
        "account domain unknown",
        dynamic: ("Domain: example.org", "Domain: example.net"),
        file: "domains.conf",
        at: "Domain: example.net",
        fieldPath: "Accounts.mjl.Domain",
        word: "unknown domain"
    ),
    BadCase(
        "destination domain unknown",
        dynamic: ("mjl@example.org: nil", "mjl@example.net: nil"),
        file: "domains.conf",
        at: "mjl@example.net",
        fieldPath: "Accounts.mjl.Destinations.mjl@example.net",
        word: "unknown domain"
    ),
    BadCase(
        "destination not an address",
        dynamic: ("mjl@example.org: nil", "mjl@@example.org: nil"),
        file: "domains.conf",
        at: "mjl@@",
        fieldPath: "Accounts.mjl.Destinations.mjl@@example.org",
        word: "invalid email address"
    ),
    BadCase(
        "destination claimed twice",
        dynamic: (
            "\t\t\tmjl@example.org: nil\n",
            "\t\t\tmjl@example.org: nil\n\tother:\n\t\tDomain: example.org\n"
                + "\t\tDestinations:\n\t\t\tMJL@example.org: nil\n"
        ),
        file: "domains.conf",
        at: "MJL@example.org",
        fieldPath: "Accounts.other.Destinations.MJL@example.org",
        word: "already a destination"
    ),
    BadCase(
        "alias conflicts with destination",
        dynamic: (
            "\t\t\t\t- s1\n",
            "\t\t\t\t- s1\n\t\tAliases:\n\t\t\tmjl:\n\t\t\t\tAddresses:\n\t\t\t\t\t- mjl@example.org\n"
        ),
        file: "domains.conf",
        at: "\t\t\tmjl:",
        fieldPath: "Domains.example.org.Aliases.mjl",
        word: "already"
    ),
    BadCase(
        "alias member unknown",
        dynamic: (
            "\t\t\t\t- s1\n",
            "\t\t\t\t- s1\n\t\tAliases:\n\t\t\tteam:\n\t\t\t\tAddresses:\n\t\t\t\t\t- bob@example.org\n"
        ),
        file: "domains.conf",
        at: "bob@",
        fieldPath: "Domains.example.org.Aliases.team.Addresses[0]",
        word: "not a destination"
    ),
    BadCase(
        "route to unknown transport",
        dynamic: ("Accounts:\n", "Routes:\n\t-\n\t\tTransport: smarthost\nAccounts:\n"),
        file: "domains.conf",
        at: "Transport: smarthost",
        fieldPath: "Routes[0].Transport",
        word: "unknown transport"
    ),
    BadCase(
        "MTA-STS without listener",
        dynamic: (
            "\t\t\t\t- s1\n", "\t\t\t\t- s1\n\t\tMTASTS:\n\t\t\tPolicyID: 1\n\t\t\tMode: enforce\n\t\t\tMaxAge: 24h\n"
        ),
        file: "domains.conf",
        at: "MTASTS:",
        fieldPath: "Domains.example.org.MTASTS",
        word: "listener"
    ),
    BadCase(
        "ruleset without rule",
        dynamic: (
            "mjl@example.org: nil", "mjl@example.org:\n\t\t\t\tRulesets:\n\t\t\t\t\t-\n\t\t\t\t\t\tMailbox: Lists"
        ),
        file: "domains.conf",
        at: "\t\t\t\t\t-",
        fieldPath: "Accounts.mjl.Destinations.mjl@example.org.Rulesets[0]",
        word: "at least one"
    ),
    BadCase(
        "bad ruleset regexp",
        dynamic: (
            "mjl@example.org: nil",
            "mjl@example.org:\n\t\t\t\tRulesets:\n\t\t\t\t\t-\n"
                + "\t\t\t\t\t\tMsgFromRegexp: (unclosed\n\t\t\t\t\t\tMailbox: Lists"
        ),
        file: "domains.conf",
        at: "MsgFromRegexp",
        fieldPath: "Accounts.mjl.Destinations.mjl@example.org.Rulesets[0].MsgFromRegexp",
        word: "regular expression"
    ),
    BadCase(
        "web handlers without web server",
        dynamic: (
            "Accounts:\n",
            "WebHandlers:\n\t-\n\t\tDomain: example.org\n\t\tPathRegexp: ^/\n\t\tWebStatic:\n"
                + "\t\t\tRoot: /srv\nAccounts:\n"
        ),
        file: "domains.conf",
        at: "WebHandlers",
        fieldPath: "WebHandlers",
        word: "Webserver"
    ),
    BadCase(
        "DMARC account unknown",
        dynamic: (
            "\t\t\t\t- s1\n",
            "\t\t\t\t- s1\n\t\tDMARC:\n\t\t\tLocalpart: dmarc\n\t\t\tAccount: nobody\n"
                + "\t\t\tMailbox: DMARC\n"
        ),
        file: "domains.conf",
        at: "Account: nobody",
        fieldPath: "Domains.example.org.DMARC.Account",
        word: "unknown account"
    ),
]

@Suite struct BadInputTests {
    @Test(arguments: badCases)
    func badInput(_ c: BadCase) {
        var errors: [ConfigError] = []
        do {
            let (s, locations) = try ConfigLoader.parseStatic(c.staticText, file: "mox.conf")
            _ = try ConfigLoader.parseDynamic(
                c.dynamicText,
                file: "domains.conf",
                staticConfig: s,
                staticFile: "mox.conf",
                staticLocations: locations
            )
        } catch {
            errors = error.errors
        }
        let text = c.file == "mox.conf" ? c.staticText : c.dynamicText
        let line = c.at.map { lineNumber(of: $0, in: text) } ?? 0
        #expect(line > 0 || c.at == nil, "marker \(c.at ?? "") not found")
        let match = errors.first {
            $0.file == c.file && $0.line == line && $0.fieldPath == c.fieldPath && $0.reason.contains(c.word)
        }
        #expect(
            match != nil,
            "expected \(c.file):\(line): \(c.fieldPath): ...\(c.word)...; got:\n\(ConfigErrors(errors: errors))"
        )
    }

    @Test func baseIsValid() throws {
        let (s, _) = try ConfigLoader.parseStatic(baseStatic, file: "mox.conf")
        _ = try ConfigLoader.parseDynamic(baseDynamic, file: "domains.conf", staticConfig: s)
    }

    /// All problems are reported, not just the first.
    @Test func collectsAllErrors() {
        let text = baseStatic.replacingOccurrences(of: "LogLevel: info", with: "LogLevel: loud")
            .replacingOccurrences(of: "- 127.0.0.1", with: "- 127.0.0.256")
        #expect {
            try ConfigLoader.parseStatic(text, file: "mox.conf")
        } throws: { error in
            (error as? ConfigErrors)?.errors.map(\.fieldPath) == ["LogLevel", "Listeners.l.IPs[0]"]
        }
    }
}
