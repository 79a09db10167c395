import MailAddress

extension CommandCursor {
    // RFC 5321 4.1.1.2: mail = "MAIL FROM:" Reverse-path [SP Mail-parameters] CRLF
    mutating func mail() throws(SMTPSyntaxError) -> SMTPCommand {
        try self.expect(" FROM:")
        // RFC 5321 4.1.2 has no space after the colon, but Outlook sends one; mox accepts it
        // unless pedantic.
        if !self.options.pedantic {
            _ = self.take(" ")
        }
        // The path is parsed after the parameters: only SMTPUTF8 tells whether UTF-8 is allowed
        // in it (RFC 6531 3.4).
        let rawStart = self.pos
        let raw = try self.rawPath()
        let params = try self.mailParameters()
        try self.end()

        var inner = CommandCursor(
            bytes: Array(raw),
            options: SMTPParserOptions(
                smtputf8: params.smtputf8,
                pedantic: self.options.pedantic,
                lenientHello: self.options.lenientHello
            )
        )
        let path: ReversePath
        // RFC 5321 4.1.2: Reverse-path = Path / "<>"
        if raw.isEmpty {
            path = .null
        } else {
            // RFC 6531 3.7.1 (and mox): 550 5.6.7 for a UTF-8 local-part in MAIL without SMTPUTF8.
            path = .mailbox(try inner.barePath(utf8ErrorCode: 550))
            guard inner.isAtEnd else {
                throw inner.syntaxError("unexpected data after mailbox in reverse path")
            }
        }
        // RFC 5321 4.5.3.1.3: a path is at most 256 octets including the brackets.
        guard raw.count + 2 <= SMTPLimits.maxPathLength else {
            var at = self
            at.pos = rawStart
            throw at.syntaxError("path longer than \(SMTPLimits.maxPathLength) octets")
        }
        return .mail(path, params)
    }

    // RFC 5321 4.1.1.3: rcpt = "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" /
    //                          Forward-path ) [SP Rcpt-parameters] CRLF
    mutating func rcpt() throws(SMTPSyntaxError) -> SMTPCommand {
        try self.expect(" TO:")
        if !self.options.pedantic {
            _ = self.take(" ")
        }
        let path: ForwardPath
        // RFC 5321 4.5.1: "<Postmaster>" without domain must be accepted, case-insensitively.
        if self.take("<POSTMASTER>") {
            path = .postmaster
        } else {
            let start = self.pos
            try self.expect("<")
            // RFC 6531 3.7.1 (and mox): 553 5.6.7 for a UTF-8 local-part in RCPT without SMTPUTF8.
            let mailbox = try self.barePath(utf8ErrorCode: 553)
            try self.expect(">")
            // RFC 5321 4.5.3.1.3: at most 256 octets.
            guard self.pos - start <= SMTPLimits.maxPathLength else {
                throw self.syntaxError("path longer than \(SMTPLimits.maxPathLength) octets")
            }
            path = .mailbox(mailbox)
        }
        let params = try self.rcptParameters()
        try self.end()
        return .rcpt(path, params)
    }

    /// The text between "<" and ">", with quoted-strings skipped so a ">" inside quotes does not
    /// end the path.
    mutating func rawPath() throws(SMTPSyntaxError) -> ArraySlice<UInt8> {
        try self.expect("<")
        let start = self.pos
        var quoted = false
        while self.pos < self.bytes.count {
            let b = self.bytes[self.pos]
            if quoted {
                if b == UInt8(ascii: "\\") {
                    self.pos += 1
                } else if b == UInt8(ascii: "\"") {
                    quoted = false
                }
            } else if b == UInt8(ascii: "\"") {
                quoted = true
            } else if b == UInt8(ascii: ">") {
                let raw = self.bytes[start..<self.pos]
                self.pos += 1
                return raw
            }
            self.pos += 1
        }
        throw self.syntaxError("expected \">\" at end of path")
    }

    // RFC 5321 4.1.2: Path = "<" [ A-d-l ":" ] Mailbox ">"
    //                 A-d-l = At-domain *( "," At-domain ); At-domain = "@" Domain
    // RFC 5321 4.1.1.3, C: source routes are accepted and ignored.
    mutating func barePath(utf8ErrorCode: Int) throws(SMTPSyntaxError) -> SMTPMailbox {
        if self.take("@") {
            _ = try self.domain()
            while self.take(",") {
                try self.expect("@")
                _ = try self.domain()
            }
            try self.expect(":")
        }
        return try self.mailbox(utf8ErrorCode: utf8ErrorCode)
    }

    // RFC 5321 4.1.2: Mailbox = Local-part "@" ( Domain / address-literal )
    mutating func mailbox(utf8ErrorCode: Int) throws(SMTPSyntaxError) -> SMTPMailbox {
        let localpart = try self.localpart(utf8ErrorCode: utf8ErrorCode)
        try self.expect("@")
        let host = try self.hostOrLiteral()
        return SMTPMailbox(localpart: localpart, host: host)
    }

    // RFC 5321 4.1.2: Local-part = Dot-string / Quoted-string; Dot-string = Atom *("." Atom)
    mutating func localpart(utf8ErrorCode: Int) throws(SMTPSyntaxError) -> Localpart {
        let value: String
        do throws(SMTPSyntaxError) {
            if self.peek() == UInt8(ascii: "\"") {
                value = try self.quotedString(localpart: true)
            } else {
                var s = Array(try self.atom(localpart: true))
                while self.take(".") {
                    s.append(UInt8(ascii: "."))
                    s.append(contentsOf: try self.atom(localpart: true))
                }
                guard let v = String(validating: s, as: UTF8.self) else {
                    throw self.syntaxError("local-part is not valid UTF-8")
                }
                value = v
            }
        } catch {
            guard error.reply.enhanced == .nonASCIIAddressNotPermitted.withClass(5) else { throw error }
            throw self.error(utf8ErrorCode, .nonASCIIAddressNotPermitted, error.reason)
        }
        // RFC 5321 4.5.3.1.1: 64 octets; mox allows 128 unless pedantic.
        let limit = self.options.pedantic ? SMTPLimits.maxLocalpartLength : SMTPLimits.maxLocalpartLengthLenient
        guard value.utf8.count <= limit else {
            throw self.syntaxError("local-part longer than \(limit) octets")
        }
        return Localpart(uncheckedValue: value)
    }

    /// Thrown inside `localpart` and turned into the MAIL or RCPT specific code there.
    func nonASCIIError() -> SMTPSyntaxError {
        self.error(550, .nonASCIIAddressNotPermitted, "non-ASCII address not permitted without SMTPUTF8")
    }

    // RFC 5321 4.1.2: Atom = 1*atext; RFC 6531 3.3: atext =/ UTF8-non-ascii (with SMTPUTF8).
    mutating func atom(localpart: Bool) throws(SMTPSyntaxError) -> ArraySlice<UInt8> {
        let smtputf8 = self.options.smtputf8
        let err = self.nonASCIIError()
        return try self.takeWhile1("atom") { b, _ throws(SMTPSyntaxError) in
            if b >= 0x80 {
                if smtputf8 { return true }
                if localpart { throw err }
                return false
            }
            return isAtext(b)
        }
    }

    // RFC 5321 4.1.2: Quoted-string = DQUOTE *QcontentSMTP DQUOTE
    //   QcontentSMTP = qtextSMTP / quoted-pairSMTP; quoted-pairSMTP = %d92 %d32-126
    //   qtextSMTP = %d32-33 / %d35-91 / %d93-126; RFC 6531 3.3: =/ UTF8-non-ascii
    mutating func quotedString(localpart: Bool) throws(SMTPSyntaxError) -> String {
        try self.expect("\"")
        var out: [UInt8] = []
        while true {
            guard let b = self.peek() else { throw self.syntaxError("unterminated quoted string") }
            self.pos += 1
            if b == UInt8(ascii: "\"") {
                break
            }
            if b == UInt8(ascii: "\\") {
                guard let c = self.peek(), c >= 32, c < 127 else {
                    throw self.syntaxError("invalid escaped character in quoted string")
                }
                out.append(c)
                self.pos += 1
                continue
            }
            if b >= 0x80 {
                if self.options.smtputf8 {
                    out.append(b)
                    continue
                }
                if localpart {
                    self.pos -= 1
                    throw self.nonASCIIError()
                }
            }
            guard b >= 32, b < 127 else {
                self.pos -= 1
                throw self.syntaxError("invalid character in quoted string")
            }
            out.append(b)
        }
        guard let s = String(validating: out, as: UTF8.self) else {
            throw self.syntaxError("quoted string is not valid UTF-8")
        }
        return s
    }

    // RFC 5321 4.1.2: Domain = sub-domain *("." sub-domain)
    //   sub-domain = Let-dig [Ldh-str]; RFC 6531 3.3: sub-domain =/ U-label (with SMTPUTF8).
    mutating func domain() throws(SMTPSyntaxError) -> Domain {
        let start = self.pos
        let smtputf8 = self.options.smtputf8
        repeat {
            _ = try self.takeWhile1("domain label") { b, i in
                isAlpha(b) || isDigit(b) || (i > 0 && b == UInt8(ascii: "-")) || (b >= 0x80 && smtputf8)
            }
        } while self.take(".")
        let raw = self.bytes[start..<self.pos]
        // RFC 5321 4.5.3.1.2: at most 255 octets.
        guard raw.count <= SMTPLimits.maxDomainLength else {
            throw self.syntaxError("domain longer than \(SMTPLimits.maxDomainLength) octets")
        }
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw self.syntaxError("domain is not valid UTF-8")
        }
        do {
            return try Domain(parsing: text)
        } catch {
            throw self.syntaxError("invalid domain \(text.debugDescription): \(error)")
        }
    }

    // RFC 5321 4.1.3: address-literal = "[" ( IPv4-address-literal / IPv6-address-literal /
    //   General-address-literal ) "]"; IPv6-address-literal = "IPv6:" IPv6-addr.
    // General address literals are not accepted, like mox.
    mutating func hostOrLiteral() throws(SMTPSyntaxError) -> SMTPHost {
        guard self.take("[") else { return .domain(try self.domain()) }
        var tagged = false
        if let c = self.peek(), !isDigit(c) {
            let tag = try self.takeWhile1("address literal tag") { b, _ in
                isAlpha(b) || isDigit(b) || b == UInt8(ascii: "-")
            }
            guard tag.map(asciiUpper).elementsEqual("IPV6".utf8) else {
                throw self.syntaxError(
                    "unrecognized address literal tag \(String(decoding: tag, as: UTF8.self).debugDescription)"
                )
            }
            try self.expect(":")
            tagged = true
        }
        let text = Array(try self.takeWhile1("address literal") { b, _ in b != UInt8(ascii: "]") })
        try self.expect("]")
        let shown = String(decoding: text, as: UTF8.self).debugDescription
        if tagged {
            guard let v6 = IPAddressText.parseIPv6(text) else {
                throw self.syntaxError("invalid IPv6 address \(shown) in address literal")
            }
            return .ipv6(v6)
        }
        if let v4 = IPAddressText.parseIPv4(text) {
            return .ipv4(v4)
        }
        if IPAddressText.parseIPv6(text) != nil {
            throw self.syntaxError("IPv6 address \(shown) must be written as [IPv6:...]")
        }
        throw self.syntaxError("invalid IPv4 address \(shown) in address literal")
    }
}

// RFC 5322 3.2.3: atext = ALPHA / DIGIT / "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" /
//   "/" / "=" / "?" / "^" / "_" / "`" / "{" / "|" / "}" / "~"
@inline(__always)
func isAtext(_ b: UInt8) -> Bool {
    if isAlpha(b) || isDigit(b) { return true }
    switch b {
    case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
        UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "/"),
        UInt8(ascii: "="), UInt8(ascii: "?"), UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"),
        UInt8(ascii: "{"), UInt8(ascii: "|"), UInt8(ascii: "}"), UInt8(ascii: "~"):
        return true
    default:
        return false
    }
}
