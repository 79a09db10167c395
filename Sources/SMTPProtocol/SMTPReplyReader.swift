/// Replies from a server, as the SMTP client reads them: bytes in, complete replies out. Pure:
/// the client glue feeds what the socket gave; "need more bytes" is nil, not an error.
/// - SeeAlso: RFC 5321 4.2 (reply syntax), RFC 2034 (enhanced status codes)

/// Why a server's reply could not be read. The connection cannot be trusted after one.
public struct SMTPReplyError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case lineTooLong = "reply line too long"
        case tooManyLines = "reply has too many lines"
        case badCode = "malformed reply code"
        case inconsistentCode = "reply lines have different codes"
    }

    public var kind: Kind
    /// The offending line, shortened, for the log and the delivery result.
    public var line: String

    public init(_ kind: Kind, line: String) {
        self.kind = kind
        self.line = line
    }

    public var description: String { "\(self.kind.rawValue): \(self.line.debugDescription)" }
}

public struct SMTPReplyReader: Sendable {
    /// RFC 5321 4.5.3.1.5 allows 512 octets per reply line; servers send longer ones (long
    /// EHLO AUTH lists, verbose rejections), so more is accepted, within bounds.
    public static let maxLineLength = 2000
    /// Lines in one reply (an EHLO reply has one per extension).
    public static let maxLines = 128

    private var buffer: [UInt8] = []
    /// Where the unread part of `buffer` starts.
    private var start = 0
    private var code: Int?
    private var lines: [String] = []
    /// The enhanced code found on the first line, applied when every line has it.
    private var enhanced: EnhancedCode?
    private var enhancedOnAll = true

    public init() {}

    /// Bytes that were read and are not yet part of a returned reply.
    public var pendingCount: Int { self.buffer.count - self.start }

    public mutating func feed<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if self.start > 4096, self.start * 2 > self.buffer.count {
            self.buffer.removeSubrange(0..<self.start)
            self.start = 0
        }
        self.buffer.append(contentsOf: bytes)
    }

    /// The next complete reply, nil when more bytes are needed.
    public mutating func next() throws(SMTPReplyError) -> SMTPReply? {
        while true {
            guard let end = self.lineEnd() else {
                if self.pendingCount > Self.maxLineLength {
                    throw SMTPReplyError(.lineTooLong, line: Self.shorten(self.buffer[self.start...]))
                }
                return nil
            }
            var line = self.buffer[self.start..<end]
            self.start = end + 1
            // RFC 5321 2.3.8 asks for CRLF; a bare LF is accepted from servers, as most clients do.
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if line.count > Self.maxLineLength {
                throw SMTPReplyError(.lineTooLong, line: Self.shorten(line))
            }
            if let reply = try self.take(line) {
                return reply
            }
        }
    }

    private func lineEnd() -> Int? {
        var i = self.start
        while i < self.buffer.count {
            if self.buffer[i] == UInt8(ascii: "\n") { return i }
            i += 1
        }
        return nil
    }

    /// RFC 5321 4.2: Reply-line = *( Reply-code "-" [ textstring ] CRLF )
    ///                            Reply-code [ SP textstring ] CRLF
    /// Reply-code = %x32-35 %x30-35 %x30-39
    private mutating func take(_ line: ArraySlice<UInt8>) throws(SMTPReplyError) -> SMTPReply? {
        let bytes = Array(line)
        guard bytes.count >= 3, bytes[0] >= UInt8(ascii: "1"), bytes[0] <= UInt8(ascii: "5"),
            bytes[1] >= UInt8(ascii: "0"), bytes[1] <= UInt8(ascii: "9"),
            bytes[2] >= UInt8(ascii: "0"), bytes[2] <= UInt8(ascii: "9")
        else {
            throw SMTPReplyError(.badCode, line: Self.shorten(line))
        }
        let code = Int(bytes[0] - 48) * 100 + Int(bytes[1] - 48) * 10 + Int(bytes[2] - 48)
        var last = true
        var text: ArraySlice<UInt8> = []
        if bytes.count > 3 {
            switch bytes[3] {
            case UInt8(ascii: "-"): last = false
            case UInt8(ascii: " "): break
            default: throw SMTPReplyError(.badCode, line: Self.shorten(line))
            }
            text = bytes[4...]
        }
        if let previous = self.code, previous != code {
            self.reset()
            throw SMTPReplyError(.inconsistentCode, line: Self.shorten(line))
        }
        self.code = code
        // RFC 2034 4: status-code SP text, with the class of the reply code.
        var textString = String(decoding: text, as: UTF8.self)
        if let (enhanced, rest) = Self.enhancedCode(text, replyClass: code / 100) {
            if self.lines.isEmpty { self.enhanced = enhanced }
            textString = String(decoding: rest, as: UTF8.self)
        } else {
            self.enhancedOnAll = false
        }
        self.lines.append(textString)
        if self.lines.count > Self.maxLines {
            self.reset()
            throw SMTPReplyError(.tooManyLines, line: Self.shorten(line))
        }
        guard last else { return nil }
        let reply: SMTPReply
        if self.enhancedOnAll, let enhanced = self.enhanced {
            reply = SMTPReply(code: code, enhanced: enhanced, lines: self.lines)
        } else if let enhanced = self.enhanced, self.lines.count == 1 {
            reply = SMTPReply(code: code, enhanced: enhanced, lines: self.lines)
        } else {
            // Not on every line: the text is kept as the server sent it.
            reply = SMTPReply(code: code, enhanced: nil, lines: self.rawLines(code: code))
        }
        self.reset()
        return reply
    }

    /// The lines with any enhanced code the first line had put back (used when it was not on all).
    private func rawLines(code: Int) -> [String] {
        guard let enhanced = self.enhanced, !self.lines.isEmpty else { return self.lines }
        var out = self.lines
        out[0] = enhanced.description + (out[0].isEmpty ? "" : " " + out[0])
        return out
    }

    private mutating func reset() {
        self.code = nil
        self.lines = []
        self.enhanced = nil
        self.enhancedOnAll = true
    }

    /// RFC 2034 4: status-code = class "." subject "." detail; class = "2" / "4" / "5",
    /// subject and detail 1 to 3 digits. Only a code whose class matches the reply's counts.
    static func enhancedCode(_ text: ArraySlice<UInt8>, replyClass: Int) -> (EnhancedCode, ArraySlice<UInt8>)? {
        guard replyClass == 2 || replyClass == 4 || replyClass == 5 else { return nil }
        var numbers: [Int] = []
        var current = -1
        var digits = 0
        var i = text.startIndex
        while i < text.endIndex {
            let b = text[i]
            if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") {
                digits += 1
                if digits > 3 { return nil }
                current = max(current, 0) * 10 + Int(b - 48)
            } else if b == UInt8(ascii: "."), current >= 0, numbers.count < 2 {
                numbers.append(current)
                current = -1
                digits = 0
            } else {
                break
            }
            i += 1
        }
        guard numbers.count == 2, current >= 0, numbers[0] == replyClass else { return nil }
        // The code ends the text or is followed by a space.
        if i < text.endIndex {
            guard text[i] == UInt8(ascii: " ") else { return nil }
            i += 1
        }
        return (EnhancedCode(class: numbers[0], subject: numbers[1], detail: current), text[i...])
    }

    static func shorten<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        String(decoding: bytes.prefix(200), as: UTF8.self)
    }
}

extension SMTPExtensions {
    /// The extensions a server announced in its EHLO reply (the lines after the first), as the
    /// client uses them. Unknown keywords are ignored.
    /// - SeeAlso: RFC 5321 4.1.1.1 (ehlo-line)
    public init(ehloReply reply: SMTPReply) {
        self.init()
        self.pipelining = false
        self.enhancedStatusCodes = false
        self.eightBitMIME = false
        self.smtputf8 = false
        for line in reply.lines.dropFirst() {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let keyword = words.first?.uppercased() else { continue }
            let parameters = words.dropFirst().map(String.init)
            switch keyword {
            case "PIPELINING": self.pipelining = true
            // RFC 1870 4: "SIZE 0" or no number: no fixed limit.
            case "SIZE": self.size = parameters.first.flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
            case "STARTTLS": self.startTLS = true
            case "REQUIRETLS": self.requireTLS = true
            case "AUTH": self.authMechanisms = parameters.map { $0.uppercased() }
            case "ENHANCEDSTATUSCODES": self.enhancedStatusCodes = true
            case "8BITMIME": self.eightBitMIME = true
            case "BINARYMIME": self.binaryMIME = true
            case "CHUNKING": self.chunking = true
            case "DSN": self.dsn = true
            case "SMTPUTF8": self.smtputf8 = true
            case "LIMITS":
                // RFC 9422 4: LIMITS RCPTMAX=n among others.
                for parameter in parameters {
                    let kv = parameter.split(separator: "=", maxSplits: 1)
                    if kv.count == 2, kv[0].uppercased() == "RCPTMAX", let n = Int(kv[1]), n > 0 {
                        self.rcptMax = n
                    }
                }
            default: continue
            }
        }
    }
}
