/// RFC 3464 delivery status notifications, and their RFC 6533 UTF-8 variants: composing and parsing.
public struct DSN: Sendable, Equatable {
    /// Action per recipient (RFC 3464 2.3.3).
    public enum Action: Sendable, Equatable {
        case failed, delayed, delivered, relayed, expanded
        /// A value not in RFC 3464, lower-cased.
        case other(String)

        public init(_ s: String) {
            switch asciiLowercased(trimmedWhitespace(s)) {
            case "failed": self = .failed
            case "delayed": self = .delayed
            case "delivered": self = .delivered
            case "relayed": self = .relayed
            case "expanded": self = .expanded
            case let v: self = .other(v)
            }
        }

        public var name: String {
            switch self {
            case .failed: "failed"
            case .delayed: "delayed"
            case .delivered: "delivered"
            case .relayed: "relayed"
            case .expanded: "expanded"
            case .other(let v): v
            }
        }
    }

    /// A "type; value" field such as `rfc822; user@example.org` or `smtp; 550 5.1.1 no such user`.
    public struct Typed: Sendable, Equatable {
        public var type: String
        public var value: String
        public init(type: String, value: String) {
            self.type = type
            self.value = value
        }

        /// Splits at the first ";"; without one the type is empty (a common real-world mistake). Values of
        /// type "utf-8" have their `\x{HEX}` escapes decoded (RFC 6533 3).
        init(parsing s: String) {
            if let semi = s.firstIndex(of: ";") {
                self.type = asciiLowercased(trimmedWhitespace(String(s[..<semi])))
                self.value = trimmedWhitespace(String(s[s.index(after: semi)...]))
            } else {
                self.type = ""
                self.value = trimmedWhitespace(s)
            }
            if self.type == "utf-8" {
                self.value = Self.decodeEmbedded(self.value)
            }
        }

        ///     EmbeddedUnicodeChar = %x5C.78 "{" HEXPOINT "}"   ; RFC 6533 3
        /// Malformed escapes are kept as written.
        static func decodeEmbedded(_ s: String) -> String {
            guard s.contains("\\x{") else { return s }
            let scalars = Array(s.unicodeScalars)
            var out = ""
            var i = 0
            while i < scalars.count {
                if scalars[i] == "\\", i + 3 < scalars.count, scalars[i + 1] == "x", scalars[i + 2] == "{",
                    let close = scalars[(i + 3)...].prefix(7).firstIndex(of: "}"),
                    let v = UInt32(String(String.UnicodeScalarView(scalars[(i + 3)..<close])), radix: 16),
                    let u = Unicode.Scalar(v)
                {
                    out.unicodeScalars.append(u)
                    i = close + 1
                    continue
                }
                out.unicodeScalars.append(scalars[i])
                i += 1
            }
            return out
        }

    }

    /// Per-recipient fields (RFC 3464 2.3).
    public struct Recipient: Sendable, Equatable {
        public var originalRecipient: Typed?
        public var finalRecipient: Typed
        public var action: Action
        /// Status code "x.y.z" (RFC 3463).
        public var status: String
        public var remoteMTA: Typed?
        public var diagnosticCode: Typed?
        public var lastAttemptDate: MessageDate?
        public var finalLogID: String?
        public var willRetryUntil: MessageDate?
        /// Other fields, in order.
        public var extensionFields: [Field]

        public init(
            originalRecipient: Typed? = nil,
            finalRecipient: Typed,
            action: Action,
            status: String,
            remoteMTA: Typed? = nil,
            diagnosticCode: Typed? = nil,
            lastAttemptDate: MessageDate? = nil,
            finalLogID: String? = nil,
            willRetryUntil: MessageDate? = nil,
            extensionFields: [Field] = []
        ) {
            self.originalRecipient = originalRecipient
            self.finalRecipient = finalRecipient
            self.action = action
            self.status = status
            self.remoteMTA = remoteMTA
            self.diagnosticCode = diagnosticCode
            self.lastAttemptDate = lastAttemptDate
            self.finalLogID = finalLogID
            self.willRetryUntil = willRetryUntil
            self.extensionFields = extensionFields
        }
    }

    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    // Per-message fields (RFC 3464 2.2).
    public var originalEnvelopeID: String?
    public var reportingMTA: Typed
    public var dsnGateway: Typed?
    public var receivedFromMTA: Typed?
    public var arrivalDate: MessageDate?
    /// Other per-message fields, in order.
    public var extensionFields: [Field]
    public var recipients: [Recipient]

    public init(
        originalEnvelopeID: String? = nil,
        reportingMTA: Typed,
        dsnGateway: Typed? = nil,
        receivedFromMTA: Typed? = nil,
        arrivalDate: MessageDate? = nil,
        extensionFields: [Field] = [],
        recipients: [Recipient]
    ) {
        self.originalEnvelopeID = originalEnvelopeID
        self.reportingMTA = reportingMTA
        self.dsnGateway = dsnGateway
        self.receivedFromMTA = receivedFromMTA
        self.arrivalDate = arrivalDate
        self.extensionFields = extensionFields
        self.recipients = recipients
    }
}

// MARK: - Compose

extension DSN {
    /// How much of the original message to return (RFC 3461 4.3 RET, RFC 3462 2).
    public enum Original: Sendable {
        case none
        /// Only the header, as text/rfc822-headers (or message/global-headers, RFC 6533 6.3).
        case headers([UInt8])
        /// The full message as message/rfc822 (or message/global).
        case message([UInt8])
    }

    /// The delivery-status body (RFC 3464 2.1): per-message fields, a blank line, and per-recipient groups
    /// separated by blank lines. With `utf8` (message/global-delivery-status, RFC 6533 6.2) values are written
    /// as UTF-8. Without it, non-ASCII in a "utf-8" typed address becomes `\x{HEX}` (utf-8-addr-xtext,
    /// RFC 6533 3) and elsewhere "?". Control characters become spaces, and invalid field names are skipped,
    /// so values from remote servers cannot add fields.
    public func deliveryStatus(utf8: Bool) -> [UInt8] {
        var out: [UInt8] = []
        func clean(_ v: String, xtext: Bool) -> String {
            var s = ""
            for c in v.unicodeScalars {
                if c.value < 0x20 || c.value == 0x7f {
                    s += " "
                } else if xtext && !utf8 && (c.value >= 0x80 || c == "+" || c == "=" || c == "\\") {
                    // RFC 6533 3: QCHAR excludes "+", "=" and "\\"; those and non-ASCII are EmbeddedUnicodeChar.
                    s += "\\x{" + String(c.value, radix: 16, uppercase: true) + "}"
                } else if c.value >= 0x80 && !utf8 {
                    s += "?"
                } else {
                    s.unicodeScalars.append(c)
                }
            }
            return s
        }
        func add(_ name: String, _ value: String?) {
            guard let v = value, !name.isEmpty,
                name.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ":") })
            else { return }
            // Each field on its own line, folded at spaces.
            let tokens = clean(v, xtext: false).split(separator: " ").map(String.init)
            out += HeaderEncoder.fold(name: name, tokens: tokens)
        }
        func add(_ name: String, _ value: Typed?) {
            guard let t = value else { return }
            let type = clean(t.type, xtext: false)
            add(name, type + "; " + clean(t.value, xtext: asciiLowercased(type) == "utf-8"))
        }
        add("Original-Envelope-Id", self.originalEnvelopeID)
        add("Reporting-MTA", self.reportingMTA)
        add("DSN-Gateway", self.dsnGateway)
        add("Received-From-MTA", self.receivedFromMTA)
        add("Arrival-Date", self.arrivalDate?.formatted)
        for f in self.extensionFields { add(f.name, f.value) }
        for r in self.recipients {
            out += [cr, lf]
            add("Original-Recipient", r.originalRecipient)
            add("Final-Recipient", r.finalRecipient)
            add("Action", r.action.name)
            add("Status", r.status)
            add("Remote-MTA", r.remoteMTA)
            add("Diagnostic-Code", r.diagnosticCode)
            add("Last-Attempt-Date", r.lastAttemptDate?.formatted)
            add("Final-Log-ID", r.finalLogID)
            add("Will-Retry-Until", r.willRetryUntil?.formatted)
            for f in r.extensionFields { add(f.name, f.value) }
        }
        return out
    }

    /// The multipart/report body (RFC 6522) for this DSN: a human-readable text, the delivery status and the
    /// original message or its header. With `smtputf8` the status part is message/global-delivery-status and
    /// the original message/global or message/global-headers (RFC 6533 6).
    public func reportPart(text: String, original: Original, smtputf8: Bool) -> ComposePart {
        let status = self.deliveryStatus(utf8: smtputf8)
        var parts = [ComposePart.text(text)]
        let statusType =
            smtputf8
            ? ContentType(type: "message", subtype: "global-delivery-status")
            : ContentType(type: "message", subtype: "delivery-status")
        parts.append(ComposePart(.bytes(status, statusType)))
        switch original {
        case .none:
            break
        case .headers(let h):
            let type =
                smtputf8
                ? ContentType(type: "message", subtype: "global-headers")
                : ContentType(type: "text", subtype: "rfc822-headers", parameters: [("charset", "utf-8")])
            parts.append(ComposePart(.bytes(h, type)))
        case .message(let m):
            parts.append(ComposePart(.message(m)))
        }
        return ComposePart(
            .multipart(subtype: "report", parameters: [("report-type", "delivery-status")], parts: parts)
        )
    }
}

// MARK: - Parse

extension DSN {
    /// Finds the first delivery-status part (RFC 3464 or RFC 6533) in a message and parses it. Returns nil
    /// when there is none or it has no Reporting-MTA-like content at all. Lenient: missing per-message fields,
    /// bare LF, missing "type;" prefixes and unknown fields are accepted.
    public static func parse(_ message: Message) -> DSN? {
        guard let part = Self.statusPart(message.root, depth: 0) else { return nil }
        return Self.parse(deliveryStatus: part.decodedBody)
    }

    static func statusPart(_ part: Part, depth: Int) -> Part? {
        guard depth < 20 else { return nil }
        let ct = part.contentType
        if ct.type == "message" && (ct.subtype == "delivery-status" || ct.subtype == "global-delivery-status") {
            return part
        }
        for p in part.parts {
            if let found = Self.statusPart(p, depth: depth + 1) { return found }
        }
        return nil
    }

    /// Parses a delivery-status body: groups of header-like fields separated by blank lines.
    public static func parse(deliveryStatus body: [UInt8]) -> DSN? {
        var groups: [[(name: String, value: String)]] = []
        for chunk in Self.groups(body) {
            let h = Header(parsing: chunk + [cr, lf, cr, lf])
            let pairs = h.pairs.filter { !$0.name.isEmpty }
            if !pairs.isEmpty { groups.append(pairs) }
        }
        guard !groups.isEmpty else { return nil }
        func isRecipientGroup(_ g: [(name: String, value: String)]) -> Bool {
            g.contains { asciiLowercased($0.name) == "final-recipient" || asciiLowercased($0.name) == "action" }
        }
        var dsn = DSN(reportingMTA: Typed(type: "", value: ""), recipients: [])
        var rest = groups[...]
        if let first = groups.first, !isRecipientGroup(first) {
            rest = groups.dropFirst()
            for (name, value) in first {
                switch asciiLowercased(name) {
                case "original-envelope-id": dsn.originalEnvelopeID = value
                case "reporting-mta": dsn.reportingMTA = Typed(parsing: value)
                case "dsn-gateway": dsn.dsnGateway = Typed(parsing: value)
                case "received-from-mta": dsn.receivedFromMTA = Typed(parsing: value)
                case "arrival-date": dsn.arrivalDate = MessageDate(parsing: value)
                default: dsn.extensionFields.append(Field(name: name, value: value))
                }
            }
        }
        for g in rest {
            var r = Recipient(finalRecipient: Typed(type: "", value: ""), action: .other(""), status: "")
            for (name, value) in g {
                switch asciiLowercased(name) {
                case "original-recipient": r.originalRecipient = Typed(parsing: value)
                case "final-recipient": r.finalRecipient = Typed(parsing: value)
                case "action": r.action = Action(value)
                // RFC 3464 2.3.4: the status code may be followed by a comment.
                case "status": r.status = String(value.split(separator: " ").first ?? "")
                case "remote-mta": r.remoteMTA = Typed(parsing: value)
                case "diagnostic-code": r.diagnosticCode = Typed(parsing: value)
                case "last-attempt-date": r.lastAttemptDate = MessageDate(parsing: value)
                case "final-log-id": r.finalLogID = value
                case "will-retry-until": r.willRetryUntil = MessageDate(parsing: value)
                default: r.extensionFields.append(Field(name: name, value: value))
                }
            }
            dsn.recipients.append(r)
        }
        return dsn
    }

    /// Splits at empty lines (CRLF or LF; whitespace-only lines count as empty).
    static func groups(_ body: [UInt8]) -> [[UInt8]] {
        var groups: [[UInt8]] = []
        var current: [UInt8] = []
        var i = 0
        while i < body.count {
            var e = i
            while e < body.count && body[e] != lf { e += 1 }
            let line = body[i..<e]
            if line.allSatisfy({ isWSP($0) || $0 == cr }) {
                if !current.isEmpty { groups.append(current) }
                current = []
            } else {
                current += line
                if line.last != cr { current.append(cr) }
                current.append(lf)
            }
            i = e + 1
        }
        if !current.isEmpty { groups.append(current) }
        return groups
    }
}
