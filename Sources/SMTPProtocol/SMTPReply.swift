/// A reply the server sends: a three-digit code, an optional enhanced status code, and one or
/// more text lines.
/// - SeeAlso: RFC 5321 4.2, RFC 2034 4
public struct SMTPReply: Hashable, Sendable, CustomStringConvertible {
    public var code: Int
    /// Its class always agrees with `code` (2, 4 or 5); nil for 1xx and 3xx replies, which
    /// carry no enhanced code (RFC 2034 4).
    public var enhanced: EnhancedCode?
    /// The text lines, without line endings; at least one (possibly empty).
    public var lines: [String]

    /// RFC 5321 4.5.3.1.5: a reply line is at most 512 octets including the CRLF. Longer text
    /// is wrapped, preferably at a space.
    public static let maxLineLength = 512

    /// Text with "\n" is split into lines. The class of `enhanced` is replaced by the class of
    /// `code`, so `.syntaxError` can be used with 501 as well as with a 4xx reply.
    public init(_ code: Int, _ enhanced: EnhancedCode?, _ text: String) {
        self.init(
            code: code,
            enhanced: enhanced,
            lines: text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        )
    }

    public init(code: Int, enhanced: EnhancedCode?, lines: [String]) {
        self.code = code
        let cls = code / 100
        if let enhanced, cls == 2 || cls == 4 || cls == 5 {
            self.enhanced = enhanced.withClass(cls)
        } else {
            self.enhanced = nil
        }
        self.lines = lines.isEmpty ? [""] : lines
    }

    /// Whether the code is 2xx.
    public var isPositive: Bool { self.code >= 200 && self.code < 300 }
    /// Whether the code is 4xx.
    public var isTransientFailure: Bool { self.code >= 400 && self.code < 500 }
    /// Whether the code is 5xx.
    public var isPermanentFailure: Bool { self.code >= 500 && self.code < 600 }

    /// The text lines joined with "\n".
    public var text: String { self.lines.joined(separator: "\n") }

    /// The wire form: "250-first\r\n250 last\r\n", with the enhanced code after the number on
    /// every line ("550-5.1.1 a\r\n550 5.1.1 b\r\n").
    /// - SeeAlso: RFC 5321 4.2.1 (multiline replies), RFC 2034 4
    public func encoded() -> [UInt8] {
        var prefixTail: [UInt8] = []
        if let enhanced = self.enhanced {
            prefixTail = Array(enhanced.description.utf8)
        }
        let codeBytes = Array(String(self.code).utf8)
        // Code, separator, enhanced code and its space, and CRLF.
        let overhead = codeBytes.count + 1 + (prefixTail.isEmpty ? 0 : prefixTail.count + 1) + 2
        let room = max(Self.maxLineLength - overhead, 80)
        var pieces: [ArraySlice<UInt8>] = []
        for line in self.lines {
            pieces.append(contentsOf: Self.wrap(Array(line.utf8)[...], room: room))
        }
        var out: [UInt8] = []
        out.reserveCapacity(pieces.reduce(0) { $0 + $1.count + overhead })
        for (i, piece) in pieces.enumerated() {
            out.append(contentsOf: codeBytes)
            out.append(i == pieces.count - 1 ? UInt8(ascii: " ") : UInt8(ascii: "-"))
            if !prefixTail.isEmpty {
                out.append(contentsOf: prefixTail)
                if !piece.isEmpty {
                    out.append(UInt8(ascii: " "))
                }
            }
            // Line endings in the text would break the reply framing.
            for b in piece {
                out.append(b == UInt8(ascii: "\r") || b == UInt8(ascii: "\n") ? UInt8(ascii: " ") : b)
            }
            out.append(contentsOf: [UInt8(ascii: "\r"), UInt8(ascii: "\n")])
        }
        return out
    }

    /// Splits a too-long line at the last space within `room` octets (looking back at most 100
    /// octets; the space is dropped), else at the last UTF-8 character boundary.
    static func wrap(_ line: ArraySlice<UInt8>, room: Int) -> [ArraySlice<UInt8>] {
        var rest = line
        var out: [ArraySlice<UInt8>] = []
        while rest.count > room {
            var cut = rest.startIndex + room
            var e = cut
            let lowest = rest.startIndex + max(room - 100, 1)
            while e > lowest, rest[e] != UInt8(ascii: " ") {
                e -= 1
            }
            var skip = 0
            if rest[e] == UInt8(ascii: " ") {
                cut = e
                skip = 1
            } else {
                // Do not split a multi-byte character: continuation bytes are 10xxxxxx.
                while cut > rest.startIndex + 1, rest[cut] & 0xC0 == 0x80 {
                    cut -= 1
                }
            }
            out.append(rest[rest.startIndex..<cut])
            rest = rest[(cut + skip)...]
        }
        out.append(rest)
        return out
    }

    public var description: String {
        let head = "\(self.code)" + (self.enhanced.map { " \($0)" } ?? "")
        return head + " " + self.text
    }
}

// MARK: - Common replies

extension SMTPReply {
    /// 220 greeting. RFC 5321 4.2: "220 domain text"; mox announces "ESMTP".
    public static func greeting(hostname: String, text: String = "ESMTP") -> SMTPReply {
        SMTPReply(220, nil, hostname + " " + text)
    }

    /// 250 with X.0.0.
    public static func ok(_ text: String = "ok") -> SMTPReply { SMTPReply(250, .other, text) }

    /// 221 closing.
    public static func closing(_ text: String = "bye") -> SMTPReply { SMTPReply(221, .other, text) }

    /// 354 start mail input. RFC 5321 4.3.2.
    public static func startMailInput(_ text: String = "end data with <CR><LF>.<CR><LF>") -> SMTPReply {
        SMTPReply(354, nil, text)
    }

    /// 500 5.5.1: unknown command. RFC 5321 4.2.4: 500, not 502, for unrecognized commands.
    public static func unknownCommand(_ text: String = "unknown command") -> SMTPReply {
        SMTPReply(500, .invalidCommand, text)
    }

    /// 501 5.5.2: syntax error in parameters or arguments.
    public static func badSyntax(_ reason: String) -> SMTPReply { SMTPReply(501, .syntaxError, reason) }

    /// 503 5.5.1: bad sequence of commands. RFC 5321 4.1.4.
    public static func badSequence(_ reason: String) -> SMTPReply { SMTPReply(503, .invalidCommand, reason) }

    /// 555 5.3.3: MAIL or RCPT parameter not recognized or not implemented. RFC 5321 4.1.1.11.
    public static func unrecognizedParameter(_ keyword: String) -> SMTPReply {
        SMTPReply(555, .featureNotSupported, "unrecognized parameter \"\(keyword)\"")
    }

    /// 552 5.3.4: message too big. RFC 1870 6.3 (and 4.3 for a SIZE value above the limit).
    public static func messageTooBig(_ text: String = "message too large") -> SMTPReply {
        SMTPReply(552, .messageTooBig, text)
    }

    /// 500 5.5.2 for a message with a bare CR or LF around the end marker: possible SMTP
    /// smuggling. RFC 5321 2.3.8 and 4.1.1.4 only allow CRLF; mox rejects with these codes.
    public static let bareLineEnding = SMTPReply(
        500,
        .syntaxError,
        "message rejected: bare CR or LF in DATA (only CRLF line endings allowed, possible SMTP smuggling)"
    )

    /// 500 5.5.0: command line too long; the connection is then closed, like mox does.
    public static let lineTooLong = SMTPReply(
        500,
        .protocolOther,
        "line too long: SMTP allows 512 octets, we stopped at \(SMTPLimits.maxLineLength)"
    )

    /// 421 4.3.2: shutting down; the connection is then closed. RFC 5321 3.8.
    /// mox's reply to a network with too many failed logins (on any protocol): 421 and close.
    public static let tooManyAuthFailures = SMTPReply(
        421,
        EnhancedCode(class: 4, subject: 7, detail: 0),
        "too many auth failures"
    )

    public static func shuttingDown(hostname: String) -> SMTPReply {
        SMTPReply(421, .systemNotAccepting, hostname + " shutting down")
    }
}
