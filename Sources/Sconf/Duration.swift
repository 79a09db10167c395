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

    private static let units: [(String, Int64)] = [
        ("ns", 1), ("us", 1_000), ("µs", 1_000), ("μs", 1_000), ("ms", 1_000_000),
        ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000),
    ]

    public init?(sconfText: Substring) {
        var rest = sconfText
        var negative = false
        if let first = rest.first, first == "-" || first == "+" {
            negative = first == "-"
            rest = rest.dropFirst()
        }
        if rest == "0" {
            self.nanoseconds = 0
            return
        }
        if rest.isEmpty {
            return nil
        }
        var total: Double = 0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number != ".", number.filter({ $0 == "." }).count <= 1,
                let value = Double(number.hasPrefix(".") ? "0" + number : String(number))
            else {
                return nil
            }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            // Longest match first so that "ms" is not read as "m".
            guard let unit = Self.units.filter({ $0.0 == unitText }).first else {
                return nil
            }
            rest = rest.dropFirst(unitText.count)
            total += value * Double(unit.1)
            if total > Double(Int64.max) {
                return nil
            }
        }
        self.nanoseconds = Int64(total.rounded()) * (negative ? -1 : 1)
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
