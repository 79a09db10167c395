import MailAddress

extension SMTPCommand {
    /// The command line as a client sends it, with CRLF. Parsing the result gives the command
    /// back (for commands the parser can produce).
    /// - SeeAlso: RFC 5321 4.1.1, 4.1.2
    public func encoded() -> [UInt8] {
        Array(self.line.utf8) + [UInt8(ascii: "\r"), UInt8(ascii: "\n")]
    }

    /// The command line without CRLF.
    public var line: String {
        switch self {
        case .ehlo(let host): return "EHLO" + (host.map { " " + $0.formatted } ?? "")
        case .helo(let host): return "HELO" + (host.map { " " + $0.formatted } ?? "")
        case .mail(let path, let params): return "MAIL FROM:" + path.formatted + params.formatted
        case .rcpt(let path, let params): return "RCPT TO:" + path.formatted + params.formatted
        case .data: return "DATA"
        case .bdat(let size, let last): return "BDAT \(size)" + (last ? " LAST" : "")
        case .rset: return "RSET"
        case .noop(let s): return "NOOP" + (s.map { " " + Self.string($0) } ?? "")
        case .quit: return "QUIT"
        case .vrfy(let s, let utf8): return "VRFY " + Self.string(s) + (utf8 ? " SMTPUTF8" : "")
        case .expn(let s, let utf8): return "EXPN " + Self.string(s) + (utf8 ? " SMTPUTF8" : "")
        case .help(let s): return "HELP" + (s.map { " " + $0 } ?? "")
        case .starttls: return "STARTTLS"
        case .auth(let mech, let initial):
            // RFC 4954 4: "=" for an empty initial response.
            return "AUTH " + mech + (initial.map { " " + ($0.isEmpty ? "=" : $0) } ?? "")
        case .unknown(let verb): return verb
        }
    }

    // RFC 5321 4.1.2: String = Atom / Quoted-string
    static func string(_ s: String) -> String {
        if !s.isEmpty, s.utf8.allSatisfy({ $0 >= 0x80 || isAtext($0) }) {
            return s
        }
        var out = "\""
        for c in s.unicodeScalars {
            if c == "\"" || c == "\\" { out.append("\\") }
            out.unicodeScalars.append(c)
        }
        return out + "\""
    }
}

extension MailParameters {
    /// " KEY=value" for each parameter, in a fixed order; "" when there are none.
    public var formatted: String {
        var s = ""
        if let size = self.size { s += " SIZE=\(size)" }
        if let body = self.body { s += " BODY=" + body.rawValue }
        if self.smtputf8 { s += " SMTPUTF8" }
        switch self.auth {
        case .unknown?: s += " AUTH=<>"
        case .mailbox(let m)?: s += " AUTH=" + Xtext.encode(m)
        case nil: break
        }
        if let ret = self.ret { s += " RET=" + ret.rawValue }
        if let envid = self.envid { s += " ENVID=" + Xtext.encode(envid) }
        if self.requireTLS { s += " REQUIRETLS" }
        return s
    }
}

extension RcptParameters {
    /// " KEY=value" for each parameter, in a fixed order; "" when there are none.
    public var formatted: String {
        var s = ""
        switch self.notify {
        case .never?: s += " NOTIFY=NEVER"
        case .conditions(let c)?:
            var names: [String] = []
            if c.contains(.success) { names.append("SUCCESS") }
            if c.contains(.failure) { names.append("FAILURE") }
            if c.contains(.delay) { names.append("DELAY") }
            s += " NOTIFY=" + names.joined(separator: ",")
        case nil: break
        }
        if let o = self.orcpt { s += " ORCPT=" + o.addressType + ";" + Xtext.encode(o.address) }
        return s
    }
}
