/// A date-time from a Date header (RFC 5322 3.3), with its zone offset.
public struct MessageDate: Sendable, Equatable, Hashable {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int
    /// Offset from UTC in minutes (e.g. +0130 is 90).
    public var zoneMinutes: Int

    public init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, zoneMinutes: Int) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.zoneMinutes = zoneMinutes
    }

    /// Seconds since 1970-01-01T00:00:00Z.
    public var unixTime: Int64 {
        // Days from civil (proleptic Gregorian), after Howard Hinnant's published algorithm.
        let y = Int64(self.month <= 2 ? self.year - 1 : self.year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(self.month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(self.day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        return days * 86400 + Int64(self.hour) * 3600 + Int64(self.minute) * 60 + Int64(self.second)
            - Int64(self.zoneMinutes) * 60
    }

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    // RFC 5322 4.3: obsolete zone names; military letters are treated as -0000 (unknown offset).
    private static let zones: [String: Int] = [
        "ut": 0, "gmt": 0, "utc": 0, "z": 0, "est": -5 * 60, "edt": -4 * 60, "cst": -6 * 60, "cdt": -5 * 60,
        "mst": -7 * 60, "mdt": -6 * 60, "pst": -8 * 60, "pdt": -7 * 60,
    ]

    ///     date-time   = [ day-of-week "," ] date time [CFWS]        ; RFC 5322 3.3
    ///     date        = day month year
    ///     time        = time-of-day zone
    ///     time-of-day = hour ":" minute [ ":" second ]
    ///     zone        = (FWS ( "+" / "-" ) 4DIGIT) / obs-zone
    /// Tolerates obsolete two- and three-digit years (RFC 5322 4.3), comments, missing day-of-week
    /// comma and a missing zone (taken as UTC). Returns nil if no date can be read.
    public init?(parsing value: String) {
        // Words, dropping comments and commas.
        var words: [String] = []
        var lx = StructuredLexer(value)
        while true {
            lx.skipCFWS()
            guard lx.i < lx.b.count else { break }
            let start = lx.i
            while lx.i < lx.b.count {
                let c = lx.b[lx.i]
                if isWSP(c) || c == cr || c == lf || c == UInt8(ascii: "(") || c == UInt8(ascii: ",") { break }
                lx.i += 1
            }
            if lx.i > start {
                words.append(headerString(lx.b[start..<lx.i]))
            }
            if lx.i < lx.b.count, lx.b[lx.i] == UInt8(ascii: ",") { lx.i += 1 }
            if words.count > 16 { break }
        }
        var w = words[...]
        // Optional day of week.
        if let f = w.first, f.first?.isLetter == true { w = w.dropFirst() }
        // "1 Jan 2020" or "1-Jan-2020".
        if let f = w.first, f.contains("-"), !f.hasPrefix("-"), !f.hasPrefix("+") {
            let sp = f.split(separator: "-").map(String.init)
            if sp.count == 3 { w = (sp + Array(w.dropFirst()))[...] }
        }
        guard w.count >= 4, let day = Int(w[w.startIndex]), day >= 1, day <= 31 else { return nil }
        let monthName = asciiLowercased(String(w[w.startIndex + 1].prefix(3)))
        guard let mi = Self.months.firstIndex(of: monthName) else { return nil }
        guard var year = Int(w[w.startIndex + 2]), year >= 0, year < 10000 else { return nil }
        // RFC 5322 4.3: two-digit years below 50 are 20xx, others 19xx; three-digit years add 1900.
        let yearDigits = w[w.startIndex + 2].count
        if yearDigits <= 2 {
            year += year < 50 ? 2000 : 1900
        } else if yearDigits == 3 {
            year += 1900
        }
        let timeParts = w[w.startIndex + 3].split(separator: ":", omittingEmptySubsequences: false)
        guard timeParts.count == 2 || timeParts.count == 3,
            let hour = Int(timeParts[0]), let minute = Int(timeParts[1]),
            hour >= 0, hour <= 23, minute >= 0, minute <= 59
        else { return nil }
        var second = 0
        if timeParts.count == 3 {
            // RFC 5322 3.3: 60 is allowed for a leap second.
            guard let s = Int(timeParts[2]), s >= 0, s <= 60 else { return nil }
            second = s
        }
        var zone = 0
        if w.count >= 5 {
            let z = w[w.startIndex + 4]
            let zb = Array(z.utf8)
            if zb.count == 5, zb[0] == UInt8(ascii: "+") || zb[0] == UInt8(ascii: "-"), let n = Int(z.dropFirst()) {
                let minutes = (n / 100) * 60 + n % 100
                guard n % 100 < 60 else { return nil }
                zone = zb[0] == UInt8(ascii: "-") ? -minutes : minutes
            } else if let known = Self.zones[asciiLowercased(z)] {
                zone = known
            }
        }
        self.init(year: year, month: mi + 1, day: day, hour: hour, minute: minute, second: second, zoneMinutes: zone)
    }
}

/// Message-ID, In-Reply-To and References (RFC 5322 3.6.4).
public enum MessageIDs {
    ///     msg-id    = [CFWS] "<" id-left "@" id-right ">" [CFWS]
    ///     in-reply-to = "In-Reply-To:" 1*msg-id CRLF
    ///     references  = "References:" 1*msg-id CRLF
    /// Returns the ids without angle brackets, in order. Lenient: any "<...>" is taken (RFC 5322
    /// 4.5.4 obsolete forms may mix in phrases); a value without brackets gives its words.
    public static func parse(_ value: String) -> [String] {
        var ids: [String] = []
        var lx = StructuredLexer(value)
        var sawBracket = false
        while true {
            lx.skipCFWS()
            guard lx.i < lx.b.count else { break }
            if lx.b[lx.i] == UInt8(ascii: "<") {
                sawBracket = true
                lx.i += 1
                let start = lx.i
                while lx.i < lx.b.count, lx.b[lx.i] != UInt8(ascii: ">") { lx.i += 1 }
                let id = headerString(lx.b[start..<lx.i].filter { !isWSP($0) && $0 != cr && $0 != lf })
                if !id.isEmpty { ids.append(id) }
                if lx.i < lx.b.count { lx.i += 1 }
            } else if lx.b[lx.i] == UInt8(ascii: "\"") {
                _ = lx.quotedString()
            } else {
                lx.i += 1
            }
        }
        if !sawBracket {
            return value.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        }
        return ids
    }

    /// The single id in a Message-ID value, if any.
    public static func messageID(_ value: String) -> String? {
        Self.parse(value).first
    }
}
