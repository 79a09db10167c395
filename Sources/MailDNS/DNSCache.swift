// Answers kept for their time to live. Pure: the caller passes the current time, so tests
// move the clock. Positive answers live for their smallest TTL; negative ones (NXDOMAIN and
// NODATA) for the SOA's bound (RFC 2308 5), and not at all without an SOA.

public struct DNSCache: Sendable {
    struct Key: Hashable {
        var name: DNSName
        var type: RRType
    }

    struct Entry {
        var answer: DNSAnswer
        var expires: Double
        var stored: Double
    }

    var entries: [Key: Entry] = [:]
    public let capacity: Int
    /// Upper bounds on what is cached, in seconds (those of unbound's defaults: a day, and
    /// RFC 2308 5's "one to three hours" for negative answers).
    public var maxTTL: Double = 86400
    public var maxNegativeTTL: Double = 3 * 3600

    public init(capacity: Int = 10000) {
        self.capacity = max(1, capacity)
    }

    public var count: Int { self.entries.count }

    /// The answer if cached and not expired, with TTLs of its records lowered by its age.
    public func get(_ name: DNSName, _ type: RRType, now: Double) -> DNSAnswer? {
        guard let entry = self.entries[Key(name: name, type: type)], entry.expires > now else { return nil }
        var answer = entry.answer
        let age = UInt32(max(0, now - entry.stored))
        answer.records = answer.records.map { r in
            var r = r
            r.ttl = r.ttl > age ? r.ttl - age : 0
            return r
        }
        return answer
    }

    /// Stores the answer `message` gives for the question, when it may be cached.
    public mutating func put(_ answer: DNSAnswer, from message: DNSMessage, now: Double) {
        guard let question = message.questions.first else { return }
        let ttl: Double
        if answer.rcode == .noError, !answer.records.isEmpty {
            let ttls = (answer.records + answer.cnames).map(\.ttl)
            ttl = min(Double(ttls.min() ?? 0), self.maxTTL)
        } else if answer.rcode == .noError || answer.rcode == .nameError {
            // RFC 2308 5: the minimum of the SOA record's TTL and its MINIMUM field.
            guard let soa = message.authorities.first(where: { $0.type == .soa }), case .soa(let s) = soa.data else {
                return
            }
            ttl = min(Double(min(soa.ttl, s.minimum)), self.maxNegativeTTL)
        } else {
            return
        }
        guard ttl > 0 else { return }
        let key = Key(name: question.name, type: question.type)
        if self.entries[key] == nil, self.entries.count >= self.capacity {
            self.evict(now: now)
        }
        self.entries[key] = Entry(answer: answer, expires: now + ttl, stored: now)
    }

    /// Drops expired entries; if that frees nothing, the tenth closest to expiring.
    mutating func evict(now: Double) {
        self.entries = self.entries.filter { $0.value.expires > now }
        guard self.entries.count >= self.capacity else { return }
        let drop = max(1, self.capacity / 10)
        for key in self.entries.sorted(by: { $0.value.expires < $1.value.expires }).prefix(drop).map(\.key) {
            self.entries[key] = nil
        }
    }

    public mutating func removeAll() {
        self.entries.removeAll()
    }
}
