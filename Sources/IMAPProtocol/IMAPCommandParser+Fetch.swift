extension IMAPCursor {
    /// RFC 9051 9, RFC 7162 3.1.4, 3.2.6:
    ///
    ///     fetch = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att /
    ///             "(" fetch-att *(SP fetch-att) ")") [fetch-modifiers]
    ///     fetch-modifiers = SP "(" fetch-modifier *(SP fetch-modifier) ")"
    ///     fetch-modifier = "CHANGEDSINCE" SP mod-sequence-value / "VANISHED"
    mutating func fetch(uid: Bool) throws(IMAPParseError) -> IMAPFetchCommand {
        try self.space()
        let set = try self.sequenceSet()
        try self.space()
        var atts: [IMAPFetchAttribute]
        if self.peek() == UInt8(ascii: "(") {
            atts = try self.list(allowEmpty: false) { (p: inout IMAPCursor) throws(IMAPParseError) in
                try p.fetchAttribute()
            }
        } else if self.takeWord("ALL") {
            atts = [.flags, .internalDate, .rfc822Size, .envelope]
        } else if self.takeWord("FAST") {
            atts = [.flags, .internalDate, .rfc822Size]
        } else if self.takeWord("FULL") {
            atts = [.flags, .internalDate, .rfc822Size, .envelope, .body]
        } else {
            atts = [try self.fetchAttribute()]
        }
        var changedSince: UInt64?
        var vanished = false
        if self.take(UInt8(ascii: " ")) {
            _ = try self.list(allowEmpty: false) { (p: inout IMAPCursor) throws(IMAPParseError) in
                if p.takeWord("CHANGEDSINCE ") {
                    changedSince = try p.number64("modseq")
                } else if p.takeWord("VANISHED") {
                    vanished = true
                } else {
                    throw p.error("unknown FETCH modifier")
                }
            }
        }
        // RFC 7162 3.2.6: VANISHED only with UID FETCH and CHANGEDSINCE.
        if vanished, !uid || changedSince == nil { throw self.error("VANISHED requires UID FETCH with CHANGEDSINCE") }
        return IMAPFetchCommand(uid: uid, set: set, attributes: atts, changedSince: changedSince, vanished: vanished)
    }

    /// RFC 9051 9 "fetch-att", RFC 8970 (PREVIEW), RFC 8514 (SAVEDATE).
    mutating func fetchAttribute() throws(IMAPParseError) -> IMAPFetchAttribute {
        let start = self.pos
        while let c = self.peek(), isAtomChar(c) || c == UInt8(ascii: "]") {
            if c == UInt8(ascii: "[") { break }
            self.pos += 1
        }
        let name = String(decoding: self.bytes[start..<self.pos], as: UTF8.self).uppercased()
        switch name {
        case "ENVELOPE": return .envelope
        case "FLAGS": return .flags
        case "INTERNALDATE": return .internalDate
        case "RFC822.SIZE": return .rfc822Size
        case "RFC822": return .rfc822
        case "RFC822.HEADER": return .rfc822Header
        case "RFC822.TEXT": return .rfc822Text
        case "BODYSTRUCTURE": return .bodyStructure
        case "UID": return .uid
        case "MODSEQ": return .modSeq
        case "SAVEDATE": return .saveDate
        case "PREVIEW":
            if self.takeWord(" (LAZY)") { return .preview(lazy: true) }
            return .preview(lazy: false)
        case "BODY", "BODY.PEEK":
            guard self.peek() == UInt8(ascii: "[") else {
                guard name == "BODY" else { throw self.error("expected section after BODY.PEEK") }
                return .body
            }
            let section = try self.section()
            return .bodySection(section, partial: try self.partial(), peek: name == "BODY.PEEK")
        case "BINARY", "BINARY.PEEK", "BINARY.SIZE":
            // RFC 3516 4.2: section-binary = "[" [section-part] "]"
            try self.expect(UInt8(ascii: "["), "[")
            var part: [UInt32] = []
            if self.peek() != UInt8(ascii: "]") {
                part = try self.sectionPart()
            }
            try self.expect(UInt8(ascii: "]"), "]")
            if name == "BINARY.SIZE" { return .binarySize(part: part) }
            return .binary(part: part, partial: try self.partial(), peek: name == "BINARY.PEEK")
        case "": throw self.error("expected fetch attribute")
        default: throw self.error("unknown fetch attribute \(name.prefix(32))")
        }
    }

    ///     section = "[" [section-spec] "]"
    ///     section-spec = section-msgtext / (section-part ["." section-text])
    ///     section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT"
    ///     section-text = section-msgtext / "MIME"
    mutating func section() throws(IMAPParseError) -> IMAPSection {
        try self.expect(UInt8(ascii: "["), "[")
        var section = IMAPSection()
        if self.take(UInt8(ascii: "]")) { return section }
        if let c = self.peek(), isDigit(c) {
            section.part = try self.sectionPart()
            if self.take(UInt8(ascii: "]")) { return section }
            try self.expect(UInt8(ascii: "."), ". in section")
        }
        if self.takeWord("HEADER.FIELDS") {
            let not = self.takeWord(".NOT")
            try self.space()
            // header-list = "(" header-fld-name *(SP header-fld-name) ")"
            let fields = try self.list(allowEmpty: false) { (p: inout IMAPCursor) throws(IMAPParseError) in
                try p.astring("header field name")
            }
            section.text = not ? .headerFieldsNot(fields) : .headerFields(fields)
        } else if self.takeWord("HEADER") {
            section.text = .header
        } else if self.takeWord("TEXT") {
            section.text = .text
        } else if self.takeWord("MIME") {
            guard !section.part.isEmpty else { throw self.error("MIME needs a part number") }
            section.text = .mime
        } else {
            throw self.error("bad section")
        }
        try self.expect(UInt8(ascii: "]"), "]")
        return section
    }

    ///     section-part = nz-number *("." nz-number)
    mutating func sectionPart() throws(IMAPParseError) -> [UInt32] {
        var part = [try self.nzNumber("part number")]
        while self.peek() == UInt8(ascii: "."), self.pos + 1 < self.bytes.count, isDigit(self.bytes[self.pos + 1]) {
            self.pos += 1
            part.append(try self.nzNumber("part number"))
        }
        return part
    }

    ///     partial = "<" number64 "." nz-number64 ">"
    mutating func partial() throws(IMAPParseError) -> IMAPPartial? {
        guard self.take(UInt8(ascii: "<")) else { return nil }
        let offset = try self.number("partial offset")
        try self.expect(UInt8(ascii: "."), ". in partial")
        let length = try self.nzNumber("partial length")
        try self.expect(UInt8(ascii: ">"), ">")
        return IMAPPartial(offset: offset, length: length)
    }
}
