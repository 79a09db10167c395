// DNS messages (RFC 1035 4.1): header, question, answer, authority and additional sections.
// Parsing takes untrusted bytes and never traps: every read is bounds-checked, compression
// pointers must point backwards (so they cannot loop), and names and counts are limited.

import MailAddress

public struct DNSQuestion: Hashable, Sendable {
    public var name: DNSName
    public var type: RRType
    public var qclass: UInt16

    public init(name: DNSName, type: RRType, qclass: UInt16 = 1) {
        self.name = name
        self.type = type
        self.qclass = qclass
    }
}

public struct DNSMessage: Hashable, Sendable {
    public var id: UInt16
    // RFC 1035 4.1.1 header flags; RFC 4035 3.2.3 AD and 3.2.2 CD.
    public var isResponse = false
    public var opcode: UInt8 = 0
    public var authoritative = false
    public var truncated = false
    public var recursionDesired = true
    public var recursionAvailable = false
    public var authenticData = false
    public var checkingDisabled = false
    /// The response code, with the upper bits from the OPT record when there is one.
    public var rcode = RCode.noError
    public var questions: [DNSQuestion] = []
    public var answers: [ResourceRecord] = []
    public var authorities: [ResourceRecord] = []
    /// Additional records, without the OPT pseudo-record (see `edns`).
    public var additionals: [ResourceRecord] = []
    /// RFC 6891 6.1: the OPT pseudo-record's UDP payload size and DO bit, when present.
    public var edns: EDNS?

    public struct EDNS: Hashable, Sendable {
        public var udpPayloadSize: UInt16
        /// RFC 3225 3: DNSSEC OK.
        public var dnssecOK: Bool

        public init(udpPayloadSize: UInt16, dnssecOK: Bool = false) {
            self.udpPayloadSize = udpPayloadSize
            self.dnssecOK = dnssecOK
        }
    }

    public init(id: UInt16) {
        self.id = id
    }

    /// A recursive query for one name and type, with EDNS0 (RFC 6891) advertising `udpSize`
    /// and the AD bit set to ask the resolver whether it validated the answer (RFC 6840 5.7).
    public static func query(id: UInt16, name: DNSName, type: RRType, udpSize: UInt16 = 1232) -> DNSMessage {
        var m = DNSMessage(id: id)
        m.recursionDesired = true
        m.authenticData = true
        m.questions = [DNSQuestion(name: name, type: type)]
        m.edns = EDNS(udpPayloadSize: udpSize)
        return m
    }
}

/// Why bytes are not a DNS message: what was wrong, and at which offset.
public struct DNSWireError: Error, Equatable, CustomStringConvertible {
    public var offset: Int
    public var reason: String

    public init(offset: Int, _ reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "malformed dns message at offset \(self.offset): \(self.reason)" }
}

// MARK: - Parsing

extension DNSMessage {
    /// Parses a whole message, as received over UDP or after TCP's length prefix.
    public init(parsing bytes: [UInt8]) throws(DNSWireError) {
        var reader = WireReader(bytes: bytes)
        let id = try reader.u16()
        let flags = try reader.u16()
        let counts = [try reader.u16(), try reader.u16(), try reader.u16(), try reader.u16()]
        self.init(id: id)
        self.isResponse = flags & 0x8000 != 0
        self.opcode = UInt8((flags >> 11) & 0x0f)
        self.authoritative = flags & 0x0400 != 0
        self.truncated = flags & 0x0200 != 0
        self.recursionDesired = flags & 0x0100 != 0
        self.recursionAvailable = flags & 0x0080 != 0
        self.authenticData = flags & 0x0020 != 0
        self.checkingDisabled = flags & 0x0010 != 0
        var rcode = flags & 0x000f
        // Each record takes at least 11 octets and a question 5: counts beyond what the message
        // can hold are refused before anything is allocated for them.
        guard Int(counts[0]) * 5 <= bytes.count else {
            throw DNSWireError(offset: 4, "question count \(counts[0]) exceeds the message size")
        }
        let records = Int(counts[1]) + Int(counts[2]) + Int(counts[3])
        guard records * 11 <= bytes.count else {
            throw DNSWireError(offset: 6, "record counts (\(records) records) exceed the message size")
        }
        for _ in 0..<counts[0] {
            let name = try reader.name()
            let type = RRType(try reader.u16())
            let qclass = try reader.u16()
            self.questions.append(DNSQuestion(name: name, type: type, qclass: qclass))
        }
        for _ in 0..<counts[1] { self.answers.append(try reader.record()) }
        for _ in 0..<counts[2] { self.authorities.append(try reader.record()) }
        for _ in 0..<counts[3] {
            let start = reader.offset
            let record = try reader.record()
            if record.type == .opt {
                // RFC 6891 6.1.1: at most one OPT, with the root as owner.
                guard self.edns == nil else { throw DNSWireError(offset: start, "more than one OPT record") }
                guard record.name == .root else { throw DNSWireError(offset: start, "OPT record not owned by the root") }
                // RFC 6891 6.1.3: TTL holds EXTENDED-RCODE (upper 8 bits of 12), VERSION, DO, Z.
                rcode |= UInt16(record.ttl >> 24) << 4
                self.edns = EDNS(udpPayloadSize: record.rrClass, dnssecOK: record.ttl & 0x8000 != 0)
            } else {
                self.additionals.append(record)
            }
        }
        self.rcode = RCode(rcode)
    }
}

/// Bounds-checked reads over a message; names follow compression pointers backwards only.
struct WireReader {
    let bytes: [UInt8]
    var offset = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func u8() throws(DNSWireError) -> UInt8 {
        guard self.offset < self.bytes.count else { throw DNSWireError(offset: self.offset, "message ends early") }
        defer { self.offset += 1 }
        return self.bytes[self.offset]
    }

    mutating func u16() throws(DNSWireError) -> UInt16 {
        guard self.offset + 2 <= self.bytes.count else {
            throw DNSWireError(offset: self.offset, "message ends early")
        }
        defer { self.offset += 2 }
        return UInt16(self.bytes[self.offset]) << 8 | UInt16(self.bytes[self.offset + 1])
    }

    mutating func u32() throws(DNSWireError) -> UInt32 {
        let hi = try self.u16()
        let lo = try self.u16()
        return UInt32(hi) << 16 | UInt32(lo)
    }

    mutating func take(_ n: Int) throws(DNSWireError) -> [UInt8] {
        guard n >= 0, self.offset + n <= self.bytes.count else {
            throw DNSWireError(offset: self.offset, "message ends early")
        }
        defer { self.offset += n }
        return Array(self.bytes[self.offset..<(self.offset + n)])
    }

    /// RFC 1035 4.1.4: a name is labels ending in a zero octet or a pointer to an earlier
    /// occurrence. Each pointer must point before the position it was read at, which rules out
    /// loops; the name may not exceed 255 octets in all.
    mutating func name() throws(DNSWireError) -> DNSName {
        var labels: [[UInt8]] = []
        var length = 1
        var position = self.offset
        // Where reading continues after the name: after its first pointer, or its end.
        var resume: Int?
        // The lowest offset a pointer may not reach: each pointer must go strictly before the
        // start of the labels that led to it.
        var limit = self.offset
        while true {
            guard position < self.bytes.count else { throw DNSWireError(offset: position, "name runs past the end") }
            let b = self.bytes[position]
            switch b & 0xc0 {
            case 0x00:
                if b == 0 {
                    self.offset = resume ?? (position + 1)
                    return DNSName(uncheckedLabels: labels)
                }
                let n = Int(b)
                guard position + 1 + n <= self.bytes.count else {
                    throw DNSWireError(offset: position, "label runs past the end")
                }
                length += 1 + n
                guard length <= DNSName.maxWireLength else {
                    throw DNSWireError(offset: position, "name longer than 255 octets")
                }
                labels.append(Array(self.bytes[(position + 1)...(position + n)]))
                position += 1 + n
            case 0xc0:
                guard position + 1 < self.bytes.count else {
                    throw DNSWireError(offset: position, "compression pointer runs past the end")
                }
                let target = Int(b & 0x3f) << 8 | Int(self.bytes[position + 1])
                guard target < limit else {
                    throw DNSWireError(offset: position, "compression pointer to \(target) does not point backwards")
                }
                if resume == nil { resume = position + 2 }
                limit = target
                position = target
            default:
                // RFC 6891 5: the 0x40 extended label type is obsolete; 0x80 is reserved.
                throw DNSWireError(offset: position, "unsupported label type 0x\(String(b & 0xc0, radix: 16))")
            }
        }
    }

    mutating func record() throws(DNSWireError) -> ResourceRecord {
        let name = try self.name()
        let type = RRType(try self.u16())
        let rrClass = try self.u16()
        let ttl = try self.u32()
        let length = Int(try self.u16())
        let start = self.offset
        guard start + length <= self.bytes.count else {
            throw DNSWireError(offset: start - 2, "record data of \(length) octets runs past the end")
        }
        let data = try self.rdata(type, length: length)
        guard self.offset == start + length else {
            throw DNSWireError(offset: start, "\(type) record data is \(self.offset - start) octets, RDLENGTH says \(length)")
        }
        return ResourceRecord(name: name, type: type, rrClass: rrClass, ttl: ttl, data: data)
    }

    mutating func rdata(_ type: RRType, length: Int) throws(DNSWireError) -> RData {
        let start = self.offset
        switch type {
        case .a:
            guard length == 4 else { throw DNSWireError(offset: start, "A record of \(length) octets, not 4") }
            return .a(IPAddress(bytes: try self.take(4))!)
        case .aaaa:
            guard length == 16 else { throw DNSWireError(offset: start, "AAAA record of \(length) octets, not 16") }
            return .aaaa(IPAddress(bytes: try self.take(16))!)
        case .ns:
            return .ns(try self.name())
        case .cname:
            return .cname(try self.name())
        case .ptr:
            return .ptr(try self.name())
        case .mx:
            let preference = try self.u16()
            return .mx(MXRecord(preference: preference, host: try self.name()))
        case .txt:
            // RFC 1035 3.3.14: one or more <character-string>s, each a length octet and data.
            var strings: [[UInt8]] = []
            while self.offset < start + length {
                let n = Int(try self.u8())
                guard self.offset + n <= start + length else {
                    throw DNSWireError(offset: self.offset - 1, "TXT string runs past the record")
                }
                strings.append(try self.take(n))
            }
            return .txt(strings)
        case .srv:
            let priority = try self.u16()
            let weight = try self.u16()
            let port = try self.u16()
            return .srv(SRVRecord(priority: priority, weight: weight, port: port, target: try self.name()))
        case .soa:
            let mname = try self.name()
            let rname = try self.name()
            return .soa(
                SOARecord(
                    mname: mname, rname: rname, serial: try self.u32(), refresh: try self.u32(), retry: try self.u32(),
                    expire: try self.u32(), minimum: try self.u32()
                )
            )
        case .tlsa:
            guard length >= 3 else { throw DNSWireError(offset: start, "TLSA record of \(length) octets") }
            let usage = try self.u8()
            let selector = try self.u8()
            let matching = try self.u8()
            return .tlsa(TLSARecord(usage: usage, selector: selector, matchingType: matching, data: try self.take(length - 3)))
        default:
            return .other(try self.take(length))
        }
    }
}

// MARK: - Encoding

extension DNSMessage {
    /// The wire form, names uncompressed (RFC 1035 4.1.4 makes compression optional).
    public var wire: [UInt8] {
        var out: [UInt8] = []
        func u16(_ v: UInt16) { out += [UInt8(v >> 8), UInt8(v & 0xff)] }
        func u32(_ v: UInt32) { u16(UInt16(v >> 16)); u16(UInt16(v & 0xffff)) }
        u16(self.id)
        var flags: UInt16 = 0
        if self.isResponse { flags |= 0x8000 }
        flags |= UInt16(self.opcode & 0x0f) << 11
        if self.authoritative { flags |= 0x0400 }
        if self.truncated { flags |= 0x0200 }
        if self.recursionDesired { flags |= 0x0100 }
        if self.recursionAvailable { flags |= 0x0080 }
        if self.authenticData { flags |= 0x0020 }
        if self.checkingDisabled { flags |= 0x0010 }
        flags |= self.rcode.value & 0x0f
        u16(flags)
        u16(UInt16(self.questions.count))
        u16(UInt16(self.answers.count))
        u16(UInt16(self.authorities.count))
        u16(UInt16(self.additionals.count + (self.edns == nil ? 0 : 1)))
        for q in self.questions {
            out += q.name.wire
            u16(q.type.value)
            u16(q.qclass)
        }
        func record(_ r: ResourceRecord) {
            out += r.name.wire
            u16(r.type.value)
            u16(r.rrClass)
            u32(r.ttl)
            let data = Self.encode(r.data)
            u16(UInt16(data.count))
            out += data
        }
        for r in self.answers { record(r) }
        for r in self.authorities { record(r) }
        for r in self.additionals { record(r) }
        if let edns = self.edns {
            let ttl = UInt32(self.rcode.value >> 4) << 24 | (edns.dnssecOK ? 0x8000 : 0)
            record(ResourceRecord(name: .root, type: .opt, rrClass: edns.udpPayloadSize, ttl: ttl, data: .other([])))
        }
        return out
    }

    static func encode(_ data: RData) -> [UInt8] {
        func u16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }
        func u32(_ v: UInt32) -> [UInt8] { u16(UInt16(v >> 16)) + u16(UInt16(v & 0xffff)) }
        switch data {
        case .a(let ip), .aaaa(let ip): return ip.bytes
        case .ns(let n), .cname(let n), .ptr(let n): return n.wire
        case .mx(let mx): return u16(mx.preference) + mx.host.wire
        case .txt(let strings):
            return strings.flatMap { s -> [UInt8] in
                let part = s.prefix(255)
                return [UInt8(part.count)] + part
            }
        case .srv(let s): return u16(s.priority) + u16(s.weight) + u16(s.port) + s.target.wire
        case .soa(let s):
            return s.mname.wire + s.rname.wire + u32(s.serial) + u32(s.refresh) + u32(s.retry) + u32(s.expire)
                + u32(s.minimum)
        case .tlsa(let t): return [t.usage, t.selector, t.matchingType] + t.data
        case .other(let bytes): return bytes
        }
    }
}
