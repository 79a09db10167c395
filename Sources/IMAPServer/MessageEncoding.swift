// The IMAP wire form of message data: ENVELOPE, BODY and BODYSTRUCTURE, and the byte ranges of
// BODY[section] and BINARY[section]. Pure functions over MailMessage's values.

import IMAPProtocol
import MailMessage
import MailStore

/// The IMAP responses kept beside each stored message (see `MessageStructure`), so FETCH
/// ENVELOPE and BODYSTRUCTURE need not read and parse the message file. They are the form sent to
/// clients without UTF8=ACCEPT; sessions with it compute theirs from the message.
public enum IMAPMessageStructure {
    public static func of(_ message: Message) -> MessageStructure {
        Self.of(envelope: message.envelope, bodyStructure: message.bodyStructure)
    }

    /// The same for a message parsed as it streamed in.
    public static func of(_ message: ScannedMessage) -> MessageStructure {
        Self.of(envelope: message.envelope, bodyStructure: message.bodyStructure)
    }

    static func of(envelope: Envelope, bodyStructure: BodyStructure) -> MessageStructure {
        var e = IMAPResponseEncoder()
        MessageEncoding.writeEnvelope(envelope, into: &e)
        var body = IMAPResponseEncoder()
        MessageEncoding.writeBody(bodyStructure, extended: true, into: &body)
        return MessageStructure(envelope: e.bytes, bodyStructure: body.bytes)
    }
}

enum MessageEncoding {
    // MARK: - ENVELOPE

    ///     envelope = "(" env-date SP env-subject SP env-from SP env-sender SP env-reply-to SP
    ///                env-to SP env-cc SP env-bcc SP env-in-reply-to SP env-message-id ")"
    /// - SeeAlso: RFC 9051 7.5.2 (ENVELOPE), RFC 9051 9 "envelope"
    static func writeEnvelope(_ env: Envelope, into e: inout IMAPResponseEncoder) {
        e.write("(")
        e.writeNstring(env.date)
        e.write(" ")
        e.writeNstring(env.subject.map { Self.headerText($0, utf8: e.utf8Accept) })
        e.write(" ")
        Self.writeAddresses(env.from, into: &e)
        e.write(" ")
        // RFC 9051 7.5.2: a missing or empty Sender or Reply-To is given as From.
        Self.writeAddresses(env.sender.isEmpty ? env.from : env.sender, into: &e)
        e.write(" ")
        Self.writeAddresses(env.replyTo.isEmpty ? env.from : env.replyTo, into: &e)
        e.write(" ")
        Self.writeAddresses(env.to, into: &e)
        e.write(" ")
        Self.writeAddresses(env.cc, into: &e)
        e.write(" ")
        Self.writeAddresses(env.bcc, into: &e)
        e.write(" ")
        e.writeNstring(env.inReplyTo)
        e.write(" ")
        e.writeNstring(env.messageID)
        e.write(")")
    }

    /// Header text as sent: 8-bit text (RFC 6532 headers) becomes RFC 2047 encoded words unless the
    /// client accepts UTF-8.
    static func headerText(_ s: String, utf8: Bool) -> String {
        if utf8 || s.utf8.allSatisfy({ $0 < 0x80 }) { return s }
        return HeaderEncoder.encodedWords(s).joined(separator: " ")
    }

    ///     address = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"
    /// A group is a start marker (NIL NIL "name" NIL), its members, and an end marker (all NIL).
    /// - SeeAlso: RFC 9051 7.5.2
    static func writeAddresses(_ items: [AddressListItem], into e: inout IMAPResponseEncoder) {
        guard !items.isEmpty else {
            e.write("NIL")
            return
        }
        e.write("(")
        for item in items {
            switch item {
            case .mailbox(let a):
                Self.writeAddress(a, into: &e)
            case .group(let name, let members):
                e.write("(NIL NIL ")
                e.writeString(Self.headerText(name, utf8: e.utf8Accept))
                e.write(" NIL)")
                for m in members {
                    Self.writeAddress(m, into: &e)
                }
                e.write("(NIL NIL NIL NIL)")
            }
        }
        e.write(")")
    }

    static func writeAddress(_ a: MessageAddress, into e: inout IMAPResponseEncoder) {
        e.write("(")
        e.writeNstring(a.name.isEmpty ? nil : Self.headerText(a.name, utf8: e.utf8Accept))
        e.write(" ")
        e.writeNstring(a.route.isEmpty ? nil : a.route)
        e.write(" ")
        e.writeNstring(a.localpart)
        e.write(" ")
        e.writeNstring(a.domain.isEmpty ? nil : a.domain)
        e.write(")")
    }

    // MARK: - BODY, BODYSTRUCTURE

    /// BODYSTRUCTURE (`extended`) or BODY.
    /// - SeeAlso: RFC 9051 7.5.2 (BODYSTRUCTURE), RFC 9051 9 "body"
    static func writeBody(_ body: BodyStructure, extended: Bool, into e: inout IMAPResponseEncoder) {
        switch body {
        case .multipart(let m):
            //     body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]
            e.write("(")
            for part in m.parts {
                Self.writeBody(part, extended: extended, into: &e)
            }
            e.write(" ")
            e.writeString(m.subtype.uppercased())
            if extended {
                //     body-ext-mpart = body-fld-param [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc]]]
                e.write(" ")
                Self.writeParameters(m.parameters, into: &e)
                e.write(" ")
                Self.writeDisposition(m.disposition, into: &e)
                e.write(" ")
                Self.writeLanguages(m.languages, into: &e)
                e.write(" ")
                e.writeNstring(m.location)
            }
            e.write(")")
        case .single(let p):
            e.write("(")
            e.writeString(p.type.uppercased())
            e.write(" ")
            e.writeString(p.subtype.uppercased())
            //     body-fields = body-fld-param SP body-fld-id SP body-fld-desc SP body-fld-enc SP body-fld-octets
            e.write(" ")
            var parameters = p.parameters
            if parameters.isEmpty && p.type == "text" {
                // RFC 2045 5.2: the default is "text/plain; charset=us-ascii".
                parameters = [BodyStructure.Parameter(name: "charset", value: "us-ascii")]
            }
            Self.writeParameters(parameters, into: &e)
            e.write(" ")
            e.writeNstring(p.id)
            e.write(" ")
            e.writeNstring(p.description)
            e.write(" ")
            e.writeString(p.encoding.uppercased())
            e.write(" \(p.size)")
            if let envelope = p.envelope, let inner = p.body {
                //     body-type-msg = media-message SP body-fields SP envelope SP body SP body-fld-lines
                e.write(" ")
                Self.writeEnvelope(envelope, into: &e)
                e.write(" ")
                Self.writeBody(inner, extended: extended, into: &e)
                e.write(" \(p.lines ?? 0)")
            } else if p.type == "text" {
                //     body-type-text = media-text SP body-fields SP body-fld-lines
                e.write(" \(p.lines ?? 0)")
            }
            if extended {
                //     body-ext-1part = body-fld-md5 [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc]]]
                e.write(" ")
                e.writeNstring(p.md5)
                e.write(" ")
                Self.writeDisposition(p.disposition, into: &e)
                e.write(" ")
                Self.writeLanguages(p.languages, into: &e)
                e.write(" ")
                e.writeNstring(p.location)
            }
            e.write(")")
        }
    }

    ///     body-fld-param = "(" string SP string *(SP string SP string) ")" / nil
    static func writeParameters(_ parameters: [BodyStructure.Parameter], into e: inout IMAPResponseEncoder) {
        guard !parameters.isEmpty else {
            e.write("NIL")
            return
        }
        e.write("(")
        for (i, p) in parameters.enumerated() {
            if i > 0 { e.write(" ") }
            e.writeString(p.name.uppercased())
            e.write(" ")
            e.writeString(Self.headerText(p.value, utf8: e.utf8Accept))
        }
        e.write(")")
    }

    ///     body-fld-dsp = "(" string SP body-fld-param ")" / nil
    static func writeDisposition(_ d: BodyStructure.Disposition?, into e: inout IMAPResponseEncoder) {
        guard let d else {
            e.write("NIL")
            return
        }
        e.write("(")
        e.writeString(d.type.uppercased())
        e.write(" ")
        Self.writeParameters(d.parameters, into: &e)
        e.write(")")
    }

    ///     body-fld-lang = nstring / "(" string *(SP string) ")"
    static func writeLanguages(_ languages: [String], into e: inout IMAPResponseEncoder) {
        switch languages.count {
        case 0: e.write("NIL")
        case 1: e.writeString(languages[0])
        default:
            e.write("(")
            for (i, l) in languages.enumerated() {
                if i > 0 { e.write(" ") }
                e.writeString(l)
            }
            e.write(")")
        }
    }

    // MARK: - Sections

    /// Why a section cannot be returned.
    enum SectionError: Error {
        /// No such part: the client gets an empty string (mox and Dovecot answer NIL or "").
        case noPart
        /// RFC 3516 4.3: the part's transfer encoding is unknown; UNKNOWN-CTE.
        case unknownEncoding
    }

    /// The bytes of BODY[section] (RFC 9051 6.4.5 "BODY[<section>]<<partial>>").
    static func section(_ section: IMAPSection, of message: Message) throws(SectionError) -> ArraySlice<UInt8> {
        let bytes = message.bytes
        var part = message.root
        if !section.part.isEmpty {
            guard let p = message.root.subpart(section.part.map { Int($0) }) else { throw .noPart }
            part = p
        }
        switch section.text {
        case nil:
            if section.part.isEmpty { return bytes[...] }
            // RFC 9051 6.4.5: a part's body; for a message/rfc822 part, the whole encapsulated message.
            return bytes[part.bodyStart..<part.end]
        case .mime:
            return bytes[part.headerStart..<part.bodyStart]
        case .header, .headerFields, .headerFieldsNot, .text:
            // On a part number, these apply to the message/rfc822 part's message.
            var target = part
            if !section.part.isEmpty {
                guard let inner = part.message else { throw .noPart }
                target = inner
            }
            switch section.text {
            case .text:
                return bytes[target.bodyStart..<target.end]
            case .header:
                return bytes[target.headerStart..<target.bodyStart]
            case .headerFields(let names):
                return Self.headerFields(target.header, names: names, not: false)[...]
            case .headerFieldsNot(let names):
                return Self.headerFields(target.header, names: names, not: true)[...]
            default:
                return []
            }
        }
    }

    /// The header fields with (or without) the given names, in their order, with the empty line
    /// that ends a header (RFC 9051 6.4.5 HEADER.FIELDS).
    static func headerFields(_ header: Header, names: [String], not: Bool) -> [UInt8] {
        let wanted = Set(names.map { $0.lowercased() })
        var out: [UInt8] = []
        for field in header.fields {
            let name = header.name(of: field).lowercased()
            if wanted.contains(name) != not {
                out += header.bytes[field.start..<field.end]
                if out.last != UInt8(ascii: "\n") { out += [13, 10] }
            }
        }
        out += [13, 10]
        return out
    }

    /// BINARY[part]: the part's body with its transfer encoding undone (RFC 3516 4.2).
    static func binary(_ path: [UInt32], of message: Message) throws(SectionError) -> [UInt8] {
        if path.isEmpty { return message.bytes }
        guard let part = message.root.subpart(path.map { Int($0) }) else { throw .noPart }
        switch part.transferEncoding {
        case "7bit", "8bit", "binary", "":
            return Array(part.bodyBytes)
        case "base64", "quoted-printable":
            return part.decodedBody
        default:
            throw .unknownEncoding
        }
    }

    /// The section's name as echoed in the FETCH response: "BODY[1.HEADER.FIELDS (SUBJECT)]".
    static func sectionSpec(_ s: IMAPSection) -> String {
        var parts = s.part.map(String.init)
        switch s.text {
        case nil: break
        case .header: parts.append("HEADER")
        case .text: parts.append("TEXT")
        case .mime: parts.append("MIME")
        case .headerFields(let names): parts.append("HEADER.FIELDS (\(Self.fieldNames(names)))")
        case .headerFieldsNot(let names): parts.append("HEADER.FIELDS.NOT (\(Self.fieldNames(names)))")
        }
        return parts.joined(separator: ".")
    }

    static func fieldNames(_ names: [String]) -> String {
        names.map { name in
            let bytes = Array(name.utf8)
            // Field names are atoms; anything else is quoted.
            if !bytes.isEmpty, bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7f && !"()\"{\\%*]".utf8.contains($0) }) {
                return name.uppercased()
            }
            return "\"" + name.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
        }.joined(separator: " ")
    }

    /// RFC 9051 6.4.5 partial: "<offset.length>"; the response names only the offset.
    static func apply(_ partial: IMAPPartial?, to bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        guard let partial else { return bytes }
        let start = bytes.startIndex + min(Int(partial.offset), bytes.count)
        let end = start + min(Int(partial.length), bytes.endIndex - start)
        return bytes[start..<end]
    }

    // MARK: - Binary content

    /// A message appended as binary (literal8, RFC 3516 4.4) may hold parts with NUL bytes or
    /// "Content-Transfer-Encoding: binary", which BODY[] cannot return. Such parts are stored
    /// base64-encoded instead; BINARY[] still returns their decoded bytes. Other messages come
    /// back unchanged.
    static func base64EncodingBinaryParts(_ bytes: [UInt8]) -> [UInt8] {
        guard !bytes.isEmpty else { return bytes }
        let message = Message(parsing: bytes)
        var edits: [(range: Range<Int>, replacement: [UInt8])] = []
        func visit(_ part: Part) {
            if part.isMultipart && !part.parts.isEmpty {
                part.parts.forEach(visit)
                return
            }
            if let inner = part.message {
                visit(inner)
                return
            }
            let body = bytes[part.bodyStart..<part.end]
            guard part.transferEncoding == "binary" || body.contains(0) else { return }
            let header = part.header
            let cte = header.fields.filter { header.name(of: $0).lowercased() == "content-transfer-encoding" }
            let field = Array("Content-Transfer-Encoding: base64\r\n".utf8)
            if let first = cte.first {
                edits.append((first.start..<first.end, field))
                for extra in cte.dropFirst() { edits.append((extra.start..<extra.end, [])) }
            } else {
                let at = header.fields.last?.end ?? part.headerStart
                edits.append((at..<at, field))
            }
            edits.append((part.bodyStart..<part.end, Self.base64Lines(body)))
        }
        visit(message.root)
        guard !edits.isEmpty else { return bytes }
        var out = bytes
        for edit in edits.sorted(by: { $0.range.lowerBound > $1.range.lowerBound }) {
            out.replaceSubrange(edit.range, with: edit.replacement)
        }
        return out
    }

    /// Base64 in lines of 76 characters with CRLF (RFC 2045 6.8).
    static func base64Lines(_ data: ArraySlice<UInt8>) -> [UInt8] {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var column = 0
        var i = data.startIndex
        while i < data.endIndex {
            let b0 = data[i]
            let b1 = i + 1 < data.endIndex ? data[i + 1] : 0
            let b2 = i + 2 < data.endIndex ? data[i + 2] : 0
            let n = min(3, data.endIndex - i)
            out.append(table[Int(b0 >> 2)])
            out.append(table[Int((b0 & 3) << 4 | b1 >> 4)])
            out.append(n > 1 ? table[Int((b1 & 15) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(n > 2 ? table[Int(b2 & 63)] : UInt8(ascii: "="))
            i += 3
            column += 4
            if column >= 76 {
                out += [13, 10]
                column = 0
            }
        }
        if column > 0 { out += [13, 10] }
        return out
    }
}
