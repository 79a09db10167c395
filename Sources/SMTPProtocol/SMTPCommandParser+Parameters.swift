/// A MAIL or RCPT parameter as sent, before its value is interpreted.
struct RawParameter {
    /// Upper case.
    var keyword: String
    var value: ArraySlice<UInt8>?
}

extension CommandCursor {
    // RFC 5321 4.1.2: Mail-parameters = esmtp-param *(SP esmtp-param)
    //   esmtp-param = esmtp-keyword ["=" esmtp-value]
    //   esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
    //   esmtp-value = 1*(%d33-60 / %d62-126); RFC 6531 3.3: =/ UTF8-non-ascii
    /// The next parameter, or nil at the end (trailing white space is left for `end()`).
    mutating func nextParameter(seen: inout Set<String>) throws(SMTPSyntaxError) -> RawParameter? {
        guard self.peek() == UInt8(ascii: " ") else { return nil }
        if !self.options.pedantic, self.onlyWhitespaceLeft {
            return nil
        }
        self.pos += 1
        let kw = try self.takeWhile1("parameter keyword") { b, i in
            isAlpha(b) || isDigit(b) || (i > 0 && b == UInt8(ascii: "-"))
        }
        let keyword = String(decoding: kw.map(asciiUpper), as: UTF8.self)
        // RFC 1869 6 and e.g. RFC 6152 3: a parameter may appear only once.
        guard seen.insert(keyword).inserted else {
            throw self.error(501, .invalidArguments, "duplicate parameter \(keyword.debugDescription)")
        }
        var value: ArraySlice<UInt8>?
        if self.take("=") {
            let smtputf8 = self.options.smtputf8
            value = try self.takeWhile1("value for parameter \(keyword)") { b, _ in
                (b >= 33 && b <= 126 && b != UInt8(ascii: "=")) || (b >= 0x80 && smtputf8)
            }
            if let b = self.peek(), b >= 0x80 {
                throw self.syntaxError("non-ASCII parameter value without SMTPUTF8")
            }
        }
        return RawParameter(keyword: keyword, value: value)
    }

    func requireValue(_ p: RawParameter) throws(SMTPSyntaxError) -> ArraySlice<UInt8> {
        guard let v = p.value else { throw self.syntaxError("parameter \(p.keyword) needs a value") }
        return v
    }

    func requireNoValue(_ p: RawParameter) throws(SMTPSyntaxError) {
        guard p.value == nil else { throw self.syntaxError("parameter \(p.keyword) takes no value") }
    }

    /// RFC 5321 4.1.1.11: 555 for a parameter value the server cannot implement.
    func badValue(_ p: RawParameter, _ reason: String) -> SMTPSyntaxError {
        self.error(555, .invalidArguments, "invalid \(p.keyword) value: \(reason)")
    }

    /// Decodes an xtext value; UTF-8 octets are allowed when the cursor allows them, and MAIL
    /// checks them against its SMTPUTF8 parameter afterwards.
    func xtext(_ p: RawParameter, _ value: ArraySlice<UInt8>) throws(SMTPSyntaxError) -> String {
        do {
            return try Xtext.decode(value, allowUTF8: self.options.smtputf8)
        } catch {
            switch error {
            case .invalidCharacter(let o):
                throw self.syntaxError("\(p.keyword): invalid xtext character at offset \(o)")
            case .invalidHexEscape(let o):
                throw self.syntaxError("\(p.keyword): invalid xtext \"+HH\" escape at offset \(o)")
            case .invalidUTF8: throw self.syntaxError("\(p.keyword): xtext does not decode to UTF-8")
            }
        }
    }

    mutating func mailParameters() throws(SMTPSyntaxError) -> MailParameters {
        var params = MailParameters()
        var seen = Set<String>()
        // The path is not parsed yet, and a UTF-8 value only makes sense with SMTPUTF8, which may
        // come later on the line: scan values permissively here and check them below.
        var scanner = CommandCursor(
            bytes: self.bytes,
            options: SMTPParserOptions(smtputf8: true, pedantic: self.options.pedantic)
        )
        scanner.pos = self.pos
        while let p = try scanner.nextParameter(seen: &seen) {
            switch p.keyword {
            case "SIZE":
                // RFC 1870 3: size-value = 1*20DIGIT
                var v = CommandCursor(bytes: Array(try scanner.requireValue(p)), options: self.options)
                params.size = try v.number("SIZE value", maxDigits: SMTPLimits.maxSizeDigits)
                guard v.isAtEnd else { throw scanner.syntaxError("SIZE value must be digits only") }
            case "BODY":
                // RFC 6152 2: BODY=7BIT / 8BITMIME; RFC 3030 3: BINARYMIME.
                let v = String(decoding: try scanner.requireValue(p).map(asciiUpper), as: UTF8.self)
                guard let body = BodyType(rawValue: v) else {
                    throw scanner.badValue(p, "must be 7BIT, 8BITMIME or BINARYMIME")
                }
                params.body = body
            case "SMTPUTF8":
                // RFC 6531 3.4: no value.
                try scanner.requireNoValue(p)
                params.smtputf8 = true
            case "AUTH":
                // RFC 4954 5: "AUTH=" (xtext / "<>")
                let v = try scanner.requireValue(p)
                if v.elementsEqual("<>".utf8) {
                    params.auth = .unknown
                } else {
                    params.auth = .mailbox(try scanner.xtext(p, v))
                }
            case "RET":
                // RFC 3461 4.3: ret-value = "FULL" / "HDRS"
                let v = String(decoding: try scanner.requireValue(p).map(asciiUpper), as: UTF8.self)
                guard let ret = DSNReturn(rawValue: v) else { throw scanner.badValue(p, "must be FULL or HDRS") }
                params.ret = ret
            case "ENVID":
                // RFC 3461 4.4: envid-value = xtext, at most 100 characters.
                let v = try scanner.requireValue(p)
                guard v.count <= SMTPLimits.maxEnvidLength else {
                    throw scanner.badValue(p, "longer than \(SMTPLimits.maxEnvidLength) characters")
                }
                params.envid = try scanner.xtext(p, v)
            case "REQUIRETLS":
                // RFC 8689 4.1: no value.
                try scanner.requireNoValue(p)
                params.requireTLS = true
            default:
                // RFC 5321 4.1.1.11: 555 for parameters that are not recognized.
                throw scanner.error(555, .featureNotSupported, "unrecognized parameter \(p.keyword.debugDescription)")
            }
        }
        // RFC 6531 3.3: UTF-8 in esmtp-value only with SMTPUTF8.
        if !params.smtputf8, self.bytes[self.pos..<scanner.pos].contains(where: { $0 >= 0x80 }) {
            throw scanner.syntaxError("non-ASCII parameter value without SMTPUTF8")
        }
        self.pos = scanner.pos
        return params
    }

    mutating func rcptParameters() throws(SMTPSyntaxError) -> RcptParameters {
        var params = RcptParameters()
        var seen = Set<String>()
        while let p = try self.nextParameter(seen: &seen) {
            switch p.keyword {
            case "NOTIFY":
                // RFC 3461 4.1: notify-esmtp-value = "NEVER" / 1#notify-list-element
                //   notify-list-element = "SUCCESS" / "FAILURE" / "DELAY"
                let v = try self.requireValue(p)
                var conditions = NotifyConditions()
                var never = false
                for item in v.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
                    switch String(decoding: item.map(asciiUpper), as: UTF8.self) {
                    case "NEVER": never = true
                    case "SUCCESS": conditions.insert(.success)
                    case "FAILURE": conditions.insert(.failure)
                    case "DELAY": conditions.insert(.delay)
                    default:
                        throw self.badValue(p, "must be NEVER, or a list of SUCCESS, FAILURE and DELAY")
                    }
                }
                if never {
                    // RFC 3461 4.1: NEVER must not be combined with other values.
                    guard conditions.isEmpty, v.count == 5 else {
                        throw self.badValue(p, "NEVER cannot be combined with other values")
                    }
                    params.notify = .never
                } else {
                    params.notify = .conditions(conditions)
                }
            case "ORCPT":
                // RFC 3461 4.2: orcpt-parameter = "ORCPT=" original-recipient-address
                //   original-recipient-address = addr-type ";" xtext; addr-type = atom
                let v = try self.requireValue(p)
                guard v.count <= SMTPLimits.maxOrcptLength else {
                    throw self.badValue(p, "longer than \(SMTPLimits.maxOrcptLength) characters")
                }
                guard let semi = v.firstIndex(of: UInt8(ascii: ";")) else {
                    throw self.syntaxError("ORCPT needs \"addr-type;address\"")
                }
                let type = v[v.startIndex..<semi]
                guard !type.isEmpty, type.allSatisfy(isAtext) else {
                    throw self.syntaxError("ORCPT address type must be an atom")
                }
                let address = try self.xtext(p, v[(semi + 1)...])
                params.orcpt = OriginalRecipient(addressType: String(decoding: type, as: UTF8.self), address: address)
            default:
                // RFC 5321 4.1.1.11
                throw self.error(555, .featureNotSupported, "unrecognized parameter \(p.keyword.debugDescription)")
            }
        }
        return params
    }
}
