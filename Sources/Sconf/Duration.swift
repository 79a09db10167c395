// Durations in the notation mox's config files use (Go's): a sequence of decimal numbers,
// each with an optional fraction and a unit, like `300ms`, `1.5h` or `2h45m`.

/// A length of time, stored in nanoseconds.
public struct SconfDuration: SconfScalar, Hashable, Comparable, Sendable {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    public init(seconds: Int64) {
        self.nanoseconds = seconds &* 1_000_000_000
    }

    public var seconds: Double { Double(self.nanoseconds) / 1e9 }

    public static func < (a: SconfDuration, b: SconfDuration) -> Bool { a.nanoseconds < b.nanoseconds }

    public static var sconfExpected: String { "a duration such as 30s, 5m, 1h30m or 24h" }
    public static var sconfZero: SconfDuration { SconfDuration(nanoseconds: 0) }
    public var sconfIsZero: Bool { self.nanoseconds == 0 }

    /// Go's units; "µs" in both Unicode spellings (micro sign and Greek mu).
    private static let units: [(String, Int64)] = [
        ("ns", 1), ("us", 1_000), ("µs", 1_000), ("μs", 1_000), ("ms", 1_000_000),
        ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000),
    ]

    /// Parses Go's duration syntax exactly, in integers: `[-+]?([0-9]*(\.[0-9]*)?unit)+`, or `0`.
    public init?(sconfText: Substring) {
        var rest = sconfText.utf8
        var negative = false
        if let first = rest.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            rest = rest.dropFirst()
        }
        if rest.elementsEqual("0".utf8) {
            self.nanoseconds = 0
            return
        }
        if rest.isEmpty {
            return nil
        }
        func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
        let dot = UInt8(ascii: ".")
        let limit = UInt64(Int64.max) + 1
        var total: UInt64 = 0
        while let first = rest.first {
            guard first == dot || isDigit(first) else {
                return nil
            }
            // Whole part.
            var whole: UInt64 = 0
            let wholeDigits = rest.prefix(while: isDigit)
            for c in wholeDigits {
                let (m, o1) = whole.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(UInt64(c - UInt8(ascii: "0")))
                guard !o1, !o2, a <= limit else {
                    return nil
                }
                whole = a
            }
            rest = rest.dropFirst(wholeDigits.count)
            // Fraction: digits beyond what fits are ignored, as Go does.
            var fraction: UInt64 = 0
            var scale: Double = 1
            var fractionDigits = 0
            if rest.first == dot {
                rest = rest.dropFirst()
                let digits = rest.prefix(while: isDigit)
                var overflowed = false
                for c in digits where !overflowed {
                    let (m, o1) = fraction.multipliedReportingOverflow(by: 10)
                    let (a, o2) = m.addingReportingOverflow(UInt64(c - UInt8(ascii: "0")))
                    if o1 || o2 || a > limit {
                        overflowed = true
                    } else {
                        fraction = a
                        scale *= 10
                    }
                }
                fractionDigits = digits.count
                rest = rest.dropFirst(digits.count)
            }
            if wholeDigits.isEmpty && fractionDigits == 0 {
                return nil
            }
            let unitBytes = rest.prefix { !(isDigit($0) || $0 == dot) }
            guard let unitText = String(unitBytes),
                let unit = Self.units.first(where: { $0.0 == unitText })?.1
            else {
                return nil
            }
            rest = rest.dropFirst(unitBytes.count)
            let unitValue = UInt64(unit)
            guard whole <= limit / unitValue else {
                return nil
            }
            var value = whole * unitValue
            if fraction > 0 {
                let perUnit: Double = Double(unitValue) / scale
                let extra: Double = Double(fraction) * perUnit
                value += UInt64(extra)
                guard value <= limit else {
                    return nil
                }
            }
            let (sum, overflow) = total.addingReportingOverflow(value)
            total = sum
            guard !overflow, total <= limit else {
                return nil
            }
        }
        if negative {
            self.nanoseconds = total == limit ? Int64.min : -Int64(total)
        } else {
            guard total < limit else {
                return nil
            }
            self.nanoseconds = Int64(total)
        }
    }

    /// Formats like mox does: `0s`, `1.5s`, `300ms`, `1h30m0s`.
    public var sconfText: String {
        if self.nanoseconds == 0 {
            return "0s"
        }
        let sign = self.nanoseconds < 0 ? "-" : ""
        let ns = self.nanoseconds.magnitude
        if ns < 1_000_000_000 {
            let (unit, scale): (String, UInt64) =
                ns < 1_000 ? ("ns", 1) : ns < 1_000_000 ? ("µs", 1_000) : ("ms", 1_000_000)
            return sign + Self.decimal(ns, scale: scale) + unit
        }
        let hours = ns / 3_600_000_000_000
        let minutes = (ns / 60_000_000_000) % 60
        let secondsPart = ns % 60_000_000_000
        var s = sign
        if hours > 0 {
            s += "\(hours)h"
        }
        if hours > 0 || minutes > 0 {
            s += "\(minutes)m"
        }
        return s + Self.decimal(secondsPart, scale: 1_000_000_000) + "s"
    }

    /// `value / scale` with the fraction's trailing zeros removed.
    private static func decimal(_ value: UInt64, scale: UInt64) -> String {
        let whole = value / scale
        var fraction = value % scale
        if fraction == 0 {
            return String(whole)
        }
        var digits = String(scale).count - 1
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let f = String(fraction)
        return "\(whole)." + String(repeating: "0", count: digits - f.count) + f
    }
}
