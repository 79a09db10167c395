// What mail clients are told to connect to (Thunderbird's autoconfig, Microsoft's autodiscover),
// and the MTA-STS policy file. Pure: built from the configuration only.

import MailAddress
import MailConfig
import Crypto

/// How a client connects to one service.
public struct ClientServer: Equatable, Sendable {
    public enum Security: String, Sendable {
        /// TLS from the first byte.
        case immediate
        case starttls
        case none
    }

    public var host: String
    public var port: Int
    public var security: Security
}

public struct ClientSettings: Equatable, Sendable {
    public var imap: ClientServer
    public var submission: ClientServer
    /// IMAP and submission also answered on port 443 (TLS ALPN), per the listener's EnabledOnHTTPS.
    public var imapOnHTTPS = false
    public var submissionOnHTTPS = false
}

public struct ClientConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
}

public enum ClientConfig {
    /// The IMAP and submission settings for a domain: the "public" listener first, then the others
    /// by name; IMAPS before IMAP and Submissions before Submission; the listener's host name (or
    /// the global one), replaced by the domain's ClientSettingsDomain when set.
    public static func settings(domain: Domain, config: Config) throws(ClientConfigError) -> ClientSettings {
        guard let domainConfig = WebRouter.configuredDomain(domain.ascii, config) else {
            throw ClientConfigError(description: "bad request: unknown domain")
        }
        let listeners = config.staticConfig.listeners
        let names = (listeners["public"] != nil ? ["public"] : []) + listeners.keys.filter { $0 != "public" }.sorted()
        var imap: ClientServer?
        var submission: ClientServer?
        // IMAPS/Submissions EnabledOnHTTPS (ALPN on port 443) is not served, so not advertised.
        let imapOnHTTPS = false
        let submissionOnHTTPS = false
        for name in names {
            guard let listener = listeners[name] else { continue }
            let host = Self.host(listener, domainConfig, config)
            if imap == nil {
                if listener.imaps.enabled {
                    imap = ClientServer(host: host, port: listener.imaps.port == 0 ? 993 : listener.imaps.port, security: .immediate)
                } else if listener.imap.enabled {
                    imap = ClientServer(
                        host: host,
                        port: listener.imap.port == 0 ? 143 : listener.imap.port,
                        security: listener.tls == nil ? .none : .starttls
                    )
                }
            }
            if submission == nil {
                if listener.submissions.enabled {
                    submission = ClientServer(
                        host: host,
                        port: listener.submissions.port == 0 ? 465 : listener.submissions.port,
                        security: .immediate
                    )
                } else if listener.submission.enabled {
                    submission = ClientServer(
                        host: host,
                        port: listener.submission.port == 0 ? 587 : listener.submission.port,
                        security: listener.tls == nil ? .none : .starttls
                    )
                }
            }
        }
        guard let imap, let submission else {
            throw ClientConfigError(description: "bad request: no listeners found for imap and/or submission")
        }
        return ClientSettings(imap: imap, submission: submission, imapOnHTTPS: imapOnHTTPS, submissionOnHTTPS: submissionOnHTTPS)
    }

    /// The host name clients use for a listener: the domain's ClientSettingsDomain, else the
    /// listener's Hostname, else the server's; in ASCII.
    static func host(_ listener: Listener, _ domainConfig: DomainConfig, _ config: Config) -> String {
        var host = listener.hostname.isEmpty ? config.staticConfig.hostname : listener.hostname
        if !domainConfig.clientSettingsDomain.isEmpty { host = domainConfig.clientSettingsDomain }
        return Domain.parse(host)?.ascii ?? host
    }

    /// One line of `mox clientconfig`: a way for a mail client to reach the server.
    public struct Entry: Equatable, Sendable {
        public var `protocol`: String
        public var host: String
        public var port: Int
        public var listener: String
        public var note: String
    }

    /// Every IMAP and submission endpoint for a domain, listeners by name, TLS ports first.
    public static func entries(domain: Domain, config: Config) throws(ClientConfigError) -> [Entry] {
        guard let domainConfig = WebRouter.configuredDomain(domain.ascii, config) else {
            throw ClientConfigError(description: "unknown domain \(domain.ascii)")
        }
        func starttls(_ listener: Listener, required: Bool) -> String {
            if listener.tls == nil { return "plain text, no STARTTLS configured" }
            return required ? "STARTTLS required" : "STARTTLS optional"
        }
        var entries: [Entry] = []
        for name in config.staticConfig.listeners.keys.sorted() {
            guard let l = config.staticConfig.listeners[name] else { continue }
            let host = Self.host(l, domainConfig, config)
            // IMAPS/Submissions EnabledOnHTTPS (ALPN on 443) is not served, so not listed.
            if l.submissions.enabled {
                entries.append(Entry(protocol: "Submission (SMTP)", host: host, port: l.submissions.port == 0 ? 465 : l.submissions.port, listener: name, note: "with TLS"))
            }
            if l.imaps.enabled {
                entries.append(Entry(protocol: "IMAP", host: host, port: l.imaps.port == 0 ? 993 : l.imaps.port, listener: name, note: "with TLS"))
            }
            if l.submission.enabled {
                entries.append(Entry(
                    protocol: "Submission (SMTP)", host: host, port: l.submission.port == 0 ? 587 : l.submission.port,
                    listener: name, note: starttls(l, required: !l.submission.noRequireSTARTTLS)
                ))
            }
            if l.imap.enabled {
                entries.append(Entry(
                    protocol: "IMAP", host: host, port: l.imap.port == 0 ? 143 : l.imap.port,
                    listener: name, note: starttls(l, required: !l.imap.noRequireSTARTTLS)
                ))
            }
        }
        return entries
    }

    /// Thunderbird's autoconfig document (clientConfig version 1.1) for `email` at `domain`.
    public static func thunderbirdXML(email: String, domain: Domain, settings: ClientSettings) -> String {
        func server(_ tag: String, _ type: String, _ s: ClientServer) -> String {
            let socket = switch s.security {
            case .immediate: "SSL"
            case .starttls: "STARTTLS"
            case .none: "plain"
            }
            return """
                \t\t<\(tag) type="\(type)">
                \t\t\t<hostname>\(markupEscape(s.host))</hostname>
                \t\t\t<port>\(s.port)</port>
                \t\t\t<socketType>\(socket)</socketType>
                \t\t\t<username>\(markupEscape(email))</username>
                \t\t\t<authentication>password-encrypted</authentication>
                \t\t</\(tag)>

                """
        }
        var xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <clientConfig version="1.1">
            \t<emailProvider id="\(markupEscape(domain.ascii))">
            \t\t<domain>\(markupEscape(domain.ascii))</domain>
            \t\t<displayName>\(markupEscape(email))</displayName>
            \t\t<displayShortName>\(markupEscape(domain.ascii))</displayShortName>

            """
        xml += server("incomingServer", "imap", settings.imap)
        if settings.imapOnHTTPS {
            xml += server("incomingServer", "imap", ClientServer(host: settings.imap.host, port: 443, security: .immediate))
        }
        xml += server("outgoingServer", "smtp", settings.submission)
        if settings.submissionOnHTTPS {
            xml += server(
                "outgoingServer",
                "smtp",
                ClientServer(host: settings.submission.host, port: 443, security: .immediate)
            )
        }
        xml += """
            \t</emailProvider>
            \t<clientConfigUpdate url="https://autoconfig.\(markupEscape(domain.ascii))/mail/config-v1.1.xml"></clientConfigUpdate>
            </clientConfig>
            """
        return xml
    }

    /// The EMailAddress of a Microsoft autodiscover request
    /// (`<Autodiscover><Request><EMailAddress>`), namespaces ignored; nil when absent.
    public static func autodiscoverEmail(_ body: String) -> String? {
        guard let start = body.firstRange(of: "EMailAddress>") else { return nil }
        let rest = body[start.upperBound...]
        guard let end = rest.firstIndex(of: "<") else { return nil }
        return xmlUnescape(String(rest[..<end])).trimmingSpaces()
    }

    /// The autodiscover response (outlook responseschema 2006a) for `email`.
    public static func autodiscoverXML(email: String, settings: ClientSettings) -> String {
        func proto(_ type: String, _ s: ClientServer) -> String {
            let ssl = s.security == .none ? "off" : "on"
            let encryption = s.security == .immediate ? "\n\t\t\t\t<Encryption>TLS</Encryption>" : ""
            return """
                \t\t\t<Protocol>
                \t\t\t\t<Type>\(type)</Type>
                \t\t\t\t<Server>\(markupEscape(s.host))</Server>
                \t\t\t\t<Port>\(s.port)</Port>
                \t\t\t\t<DirectoryPort>0</DirectoryPort>
                \t\t\t\t<ReferralPort>0</ReferralPort>
                \t\t\t\t<LoginName>\(markupEscape(email))</LoginName>
                \t\t\t\t<SSL>\(ssl)</SSL>\(encryption)
                \t\t\t\t<SPA>off</SPA>
                \t\t\t\t<AuthRequired>on</AuthRequired>
                \t\t\t</Protocol>

                """
        }
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
            \t<Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
            \t\t<Account>
            \t\t\t<AccountType>email</AccountType>
            \t\t\t<Action>settings</Action>

            """ + proto("IMAP", settings.imap) + proto("SMTP", settings.submission) + """
            \t\t</Account>
            \t</Response>
            </Autodiscover>
            """
    }

    /// The MTA-STS policy file (RFC 8461 3.2) for `domain`, from its MTASTS section; nil when the
    /// domain is unknown or has none. MX patterns default to the server's host name.
    public static func mtastsPolicy(domain: Domain, config: Config) -> String? {
        guard let domainConfig = WebRouter.configuredDomain(domain.ascii, config), let policy = domainConfig.mtasts else {
            return nil
        }
        var text = "version: STSv1\nmode: \(policy.mode)\nmax_age: \(policy.maxAge.nanoseconds / 1_000_000_000)\n"
        let mxs = policy.mx.isEmpty ? [config.staticConfig.hostname] : policy.mx
        for mx in mxs {
            if mx.hasPrefix("*.") {
                text += "mx: *.\(Domain.parse(String(mx.dropFirst(2)))?.unicode ?? String(mx.dropFirst(2)))\n"
            } else {
                text += "mx: \(Domain.parse(mx)?.unicode ?? mx)\n"
            }
        }
        return text
    }
}

/// Escapes text for XML and HTML content and attribute values.
func markupEscape(_ s: String) -> String {
    guard s.contains(where: { "<>&\"'".contains($0) }) else { return s }
    var out = ""
    for c in s {
        switch c {
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "&": out += "&amp;"
        case "\"": out += "&#34;"
        case "'": out += "&#39;"
        default: out.append(c)
        }
    }
    return out
}

func xmlUnescape(_ s: String) -> String {
    guard s.contains("&") else { return s }
    return s.replacing("&lt;", with: "<").replacing("&gt;", with: ">").replacing("&quot;", with: "\"")
        .replacing("&#34;", with: "\"").replacing("&apos;", with: "'").replacing("&#39;", with: "'")
        .replacing("&amp;", with: "&")
}

extension String {
    func trimmingSpaces() -> String {
        let scalars = self.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}

extension ClientConfig {
    /// An Apple configuration profile (.mobileconfig) with one IMAP account for `addresses`; no
    /// password and no signature. Its UUIDs are derived from the addresses, so the same request
    /// gives the same profile.
    public static func appleProfile(addresses: [String], address: Address, fullName: String, settings: ClientSettings) -> String {
        enum Value {
            case string(String)
            case integer(Int)
            case bool(Bool)
            case array([[(String, Value)]])
        }
        func uuid(_ prefix: String) -> String {
            let mac = HMAC<SHA256>.authenticationCode(
                for: Array("\(prefix)\n\n\(addresses.joined(separator: ","))".utf8),
                using: SymmetricKey(data: Array("mox0".utf8))
            )
            let hex = Array(mac).prefix(16).map { b in
                let digits = Array("0123456789abcdef")
                return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
            }.joined()
            let h = Array(hex)
            return "\(String(h[0..<8]))-\(String(h[8..<12]))-\(String(h[12..<16]))-\(String(h[16..<20]))-\(String(h[20..<32]))"
        }
        func dict(_ entries: [(String, Value)], depth: Int) -> String {
            let pad = String(repeating: "\t", count: depth)
            var out = "\(pad)<dict>\n"
            for (key, value) in entries.sorted(by: { $0.0 < $1.0 }) {
                out += "\(pad)\t<key>\(markupEscape(key))</key>\n"
                switch value {
                case .string(let s): out += "\(pad)\t<string>\(markupEscape(s))</string>\n"
                case .integer(let i): out += "\(pad)\t<integer>\(i)</integer>\n"
                case .bool(let b): out += "\(pad)\t<\(b ? "true" : "false")></\(b ? "true" : "false")>\n"
                case .array(let dicts):
                    out += "\(pad)\t<array>\n"
                    for d in dicts { out += dict(d, depth: depth + 2) }
                    out += "\(pad)\t</array>\n"
                }
            }
            return out + "\(pad)</dict>\n"
        }
        let reversed = address.domain.ascii.split(separator: ".").reversed().joined(separator: ".")
        let identifier = "\(reversed).\(address.localpart.formatted).email"
        let first = addresses[0]
        let account: [(String, Value)] = [
            ("EmailAccountDescription", .string(first)),
            ("EmailAccountName", .string(fullName)),
            ("EmailAccountType", .string("EmailTypeIMAP")),
            ("EmailAddress", .string(addresses.joined(separator: ","))),
            ("IncomingMailServerAuthentication", .string("EmailAuthCRAMMD5")),
            ("IncomingMailServerHostName", .string(settings.imap.host)),
            ("IncomingMailServerPortNumber", .integer(settings.imap.port)),
            ("IncomingMailServerUseSSL", .bool(settings.imap.security == .immediate)),
            ("IncomingMailServerUsername", .string(first)),
            ("OutgoingMailServerAuthentication", .string("EmailAuthCRAMMD5")),
            ("OutgoingMailServerHostName", .string(settings.submission.host)),
            ("OutgoingMailServerPortNumber", .integer(settings.submission.port)),
            ("OutgoingMailServerUseSSL", .bool(settings.submission.security == .immediate)),
            ("OutgoingMailServerUsername", .string(first)),
            ("OutgoingPasswordSameAsIncomingPassword", .bool(true)),
            ("PayloadIdentifier", .string(identifier + ".account")),
            ("PayloadType", .string("com.apple.mail.managed")),
            ("PayloadUUID", .string(uuid("account"))),
            ("PayloadVersion", .integer(1)),
        ]
        let top: [(String, Value)] = [
            ("PayloadContent", .array([account])),
            ("PayloadDisplayName", .string("\(first) email account")),
            ("PayloadIdentifier", .string(identifier)),
            ("PayloadType", .string("Configuration")),
            ("PayloadUUID", .string(uuid("config"))),
            ("PayloadVersion", .integer(1)),
        ]
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
            <plist version="1.0">

            """ + dict(top, depth: 1) + "</plist>\n"
    }
}
