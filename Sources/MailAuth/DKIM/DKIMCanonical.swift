// DKIM canonicalization (RFC 6376 3.4) of header fields and, streaming, of the body.

import Crypto

/// A header field as it appears in the message: the name, and the raw bytes from the name to
/// the end of the field's last line, CRLF excluded.
public struct RawHeaderField: Sendable {
    public var name: String
    public var raw: [UInt8]

    public var lowercasedName: String { self.name.lowercased() }
}

public enum RawHeader {
    /// Splits a message's header section (everything before the empty line; the empty line
    /// itself may be included) into fields. Lines ending in bare LF are taken as CRLF. A line
    /// that is neither a field nor a continuation makes the header malformed: nil.
    public static func fields(_ header: some Collection<UInt8>) -> [RawHeaderField]? {
        var fields: [RawHeaderField] = []
        var current: [UInt8] = []
        var lines: [[UInt8]] = []
        var line: [UInt8] = []
        for b in header {
            if b == UInt8(ascii: "\n") {
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                lines.append(line)
                line = []
            } else {
                line.append(b)
            }
        }
        if !line.isEmpty { lines.append(line) }
        func flush() -> Bool {
            guard !current.isEmpty else { return true }
            guard let colon = current.firstIndex(of: UInt8(ascii: ":")), colon > 0 else { return false }
            var name = Array(current[..<colon])
            // RFC 5322 3.6.8: field-name = 1*ftext; whitespace before the colon is obsolete syntax.
            while let last = name.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { name.removeLast() }
            guard !name.isEmpty, name.allSatisfy({ $0 >= 33 && $0 <= 126 }) else { return false }
            fields.append(RawHeaderField(name: String(decoding: name, as: UTF8.self), raw: current))
            current = []
            return true
        }
        for l in lines {
            if l.isEmpty { break }
            if l.first == UInt8(ascii: " ") || l.first == UInt8(ascii: "\t") {
                guard !current.isEmpty else { return nil }
                current += [UInt8(ascii: "\r"), UInt8(ascii: "\n")] + l
            } else {
                guard flush() else { return nil }
                current = l
            }
        }
        guard flush() else { return nil }
        return fields
    }
}

enum DKIMCanonical {
    static func isWSP(_ b: UInt8) -> Bool { b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }

    /// RFC 6376 3.4.1 simple: the field unchanged, with CRLF. 3.4.2 relaxed: name lower-cased,
    /// unfolded, whitespace runs as one space, none around the colon or at the end.
    static func header(_ raw: [UInt8], relaxed: Bool) -> [UInt8] {
        guard relaxed else { return raw + [13, 10] }
        guard let colon = raw.firstIndex(of: UInt8(ascii: ":")) else { return raw + [13, 10] }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count + 2)
        for b in raw[..<colon] where !isWSP(b) {
            out.append(b >= 65 && b <= 90 ? b + 32 : b)
        }
        out.append(UInt8(ascii: ":"))
        var pendingSpace = false
        var started = false
        for b in raw[(colon + 1)...] {
            if b == 13 || b == 10 { continue }
            if isWSP(b) {
                pendingSpace = started
                continue
            }
            if pendingSpace { out.append(UInt8(ascii: " ")) }
            pendingSpace = false
            started = true
            out.append(b)
        }
        return out + [13, 10]
    }
}

/// The body hash (RFC 6376 3.7 bh=), fed the body in pieces of any size. Simple (3.4.3) and
/// relaxed (3.4.4) canonicalization are done while streaming: runs of empty lines are held
/// back until a non-empty line follows, so trailing ones are dropped; relaxed whitespace runs
/// are held until the next character shows whether they end the line.
public struct DKIMBodyHasher {
    let relaxed: Bool
    // RFC 8301 3.1: only SHA-256 (rsa-sha1 signatures are refused before hashing).
    var sha256 = SHA256()
    /// Bytes of the canonical body so far.
    var length = 0
    /// Empty lines seen and not yet written.
    var pendingEmptyLines = 0
    /// Whether the current line has content (so a CRLF ends a non-empty line).
    var lineHasContent = false
    /// A CR seen, waiting for its LF.
    var pendingCR = false
    /// relaxed: whitespace seen inside the line, written as one space if more content follows.
    var pendingSpace = false
    var buffer: [UInt8] = []

    public init(relaxed: Bool) {
        self.relaxed = relaxed
        self.buffer.reserveCapacity(8192)
    }

    mutating func emit(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.length += bytes.count
        if self.buffer.count + bytes.count > 8192 {
            self.flushBuffer()
            // A long run goes to the hash as it is, without a copy.
            if bytes.count >= 4096 {
                self.sha256.update(bufferPointer: UnsafeRawBufferPointer(bytes))
                return
            }
        }
        self.buffer.append(contentsOf: bytes)
    }

    mutating func emit(_ b: UInt8) {
        self.buffer.append(b)
        self.length += 1
        if self.buffer.count >= 8192 { self.flushBuffer() }
    }

    mutating func emitCRLF() {
        self.buffer.append(13)
        self.buffer.append(10)
        self.length += 2
        if self.buffer.count >= 8192 { self.flushBuffer() }
    }

    mutating func flushBuffer() {
        self.sha256.update(data: self.buffer)
        self.buffer.removeAll(keepingCapacity: true)
    }

    mutating func endLine() {
        if self.lineHasContent {
            self.emitCRLF()
            self.lineHasContent = false
        } else {
            self.pendingEmptyLines += 1
        }
        self.pendingSpace = false
    }

    /// Before content on a line: the empty lines held back are real (a non-empty line follows),
    /// and a held whitespace run becomes one space.
    mutating func beginContent() {
        if !self.lineHasContent {
            for _ in 0..<self.pendingEmptyLines { self.emitCRLF() }
            self.pendingEmptyLines = 0
            self.lineHasContent = true
        }
        if self.pendingSpace {
            self.emit(UInt8(ascii: " "))
            self.pendingSpace = false
        }
    }

    public mutating func update(_ chunk: some Collection<UInt8>) {
        if let done: Void = chunk.withContiguousStorageIfAvailable({ self.update(buffer: $0) }) { return done }
        Array(chunk).withUnsafeBufferPointer { self.update(buffer: $0) }
    }

    /// Whether `b` is copied as it is: anything but CR and LF, and for relaxed also but SP and HTAB.
    @inline(__always)
    func plain(_ b: UInt8) -> Bool {
        b > 32 ? true : b != 13 && b != 10 && (!self.relaxed || (b != 32 && b != 9))
    }

    mutating func update(buffer p: UnsafeBufferPointer<UInt8>) {
        var i = 0
        let n = p.count
        while i < n {
            let b = p[i]
            if self.pendingCR {
                self.pendingCR = false
                if b == 10 {
                    self.endLine()
                    i += 1
                    continue
                }
                // A bare CR is content.
                self.contentByte(13)
            }
            if self.plain(b) {
                // A run of bytes that canonicalization leaves alone, written at once.
                var j = i + 1
                while j < n {
                    let c = p[j]
                    if self.plain(c) {
                        j += 1
                    } else if c == 32 && j + 1 < n && self.plain(p[j + 1]) {
                        // relaxed: one space between words stays as it is.
                        j += 2
                    } else {
                        break
                    }
                }
                self.beginContent()
                self.emit(UnsafeBufferPointer(rebasing: p[i..<j]))
                i = j
                continue
            }
            i += 1
            if b == 13 {
                self.pendingCR = true
            } else if b == 10 {
                // A bare LF is taken as a line end (messages stored with LF are rare; mox does the same).
                self.endLine()
            } else {
                self.contentByte(b)
            }
        }
    }

    mutating func contentByte(_ b: UInt8) {
        // RFC 6376 3.4.4: whitespace runs become one space, and at the end of a line none.
        if self.relaxed && DKIMCanonical.isWSP(b) {
            self.pendingSpace = true
            return
        }
        self.beginContent()
        self.emit(b)
    }

    /// The hash of the canonical body. RFC 6376 3.4.3: an empty simple body is one CRLF;
    /// 3.4.4: an empty relaxed body is empty. A last line without CRLF gets one.
    public mutating func finalize() -> [UInt8] {
        if self.pendingCR {
            self.pendingCR = false
            self.contentByte(13)
        }
        if self.lineHasContent {
            self.emitCRLF()
            self.lineHasContent = false
        }
        if !self.relaxed && self.length == 0 { self.emitCRLF() }
        self.flushBuffer()
        return Array(self.sha256.finalize())
    }
}
