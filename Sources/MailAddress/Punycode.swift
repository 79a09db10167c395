/// Punycode (RFC 3492), the encoding IDNA uses for non-ASCII domain labels ("xn--" labels).
public enum Punycode {
    // RFC 3492 5: parameter values for Punycode.
    private static let base = 36
    private static let tMin = 1
    private static let tMax = 26
    private static let skew = 38
    private static let damp = 700
    private static let initialBias = 72
    private static let initialN = 128
    /// Guards against arithmetic overflow on hostile input (RFC 3492 6.4).
    private static let maxInt = Int(Int32.max)
    /// Longest input accepted. Both directions are quadratic in the label length; DNS labels are at
    /// most 63 octets, so this only stops abuse.
    public static let maxInputLength = 1024

    // RFC 3492 6.1: bias adaptation function.
    private static func adapt(_ delta: Int, _ numPoints: Int, _ firstTime: Bool) -> Int {
        var delta = firstTime ? delta / Self.damp : delta / 2
        delta += delta / numPoints
        var k = 0
        while delta > ((Self.base - Self.tMin) * Self.tMax) / 2 {
            delta /= Self.base - Self.tMin
            k += Self.base
        }
        return k + (((Self.base - Self.tMin + 1) * delta) / (delta + Self.skew))
    }

    private static func digitValue(_ c: UInt8) -> Int? {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return Int(c - UInt8(ascii: "a"))
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return Int(c - UInt8(ascii: "A"))
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(c - UInt8(ascii: "0")) + 26
        default: return nil
        }
    }

    private static func digitChar(_ d: Int) -> UInt8 {
        d < 26 ? UInt8(ascii: "a") + UInt8(d) : UInt8(ascii: "0") + UInt8(d - 26)
    }

    /// Encodes Unicode scalars to Punycode, without the "xn--" prefix. Nil on overflow.
    /// - SeeAlso: RFC 3492 6.3
    public static func encode(_ input: String) -> String? {
        let scalars = input.unicodeScalars.map { Int($0.value) }
        guard scalars.count <= Self.maxInputLength else { return nil }
        var output: [UInt8] = scalars.filter { $0 < 0x80 }.map { UInt8($0) }
        let basicCount = output.count
        var handled = basicCount
        if basicCount > 0 {
            output.append(UInt8(ascii: "-"))
        }
        var n = Self.initialN
        var delta = 0
        var bias = Self.initialBias
        while handled < scalars.count {
            guard let m = scalars.filter({ $0 >= n }).min() else { break }
            let (product, overflow) = (m - n).multipliedReportingOverflow(by: handled + 1)
            guard !overflow, delta + product <= Self.maxInt else { return nil }
            delta += product
            n = m
            for c in scalars {
                if c < n {
                    delta += 1
                    guard delta <= Self.maxInt else { return nil }
                }
                if c == n {
                    var q = delta
                    var k = Self.base
                    while true {
                        let t = k <= bias ? Self.tMin : (k >= bias + Self.tMax ? Self.tMax : k - bias)
                        if q < t { break }
                        output.append(Self.digitChar(t + (q - t) % (Self.base - t)))
                        q = (q - t) / (Self.base - t)
                        k += Self.base
                    }
                    output.append(Self.digitChar(q))
                    bias = Self.adapt(delta, handled + 1, handled == basicCount)
                    delta = 0
                    handled += 1
                }
            }
            delta += 1
            n += 1
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes Punycode (without the "xn--" prefix) to a string. Nil on malformed input.
    /// - SeeAlso: RFC 3492 6.2
    public static func decode(_ input: String) -> String? {
        let bytes = Array(input.utf8)
        guard bytes.count <= Self.maxInputLength else { return nil }
        var output: [Int] = []
        var start = 0
        // RFC 3492 6.2: basic code points are those before the last delimiter.
        if let lastDash = bytes.lastIndex(of: UInt8(ascii: "-")) {
            for b in bytes[..<lastDash] {
                guard b < 0x80 else { return nil }
                output.append(Int(b))
            }
            start = lastDash + 1
        }
        var n = Self.initialN
        var i = 0
        var bias = Self.initialBias
        var pos = start
        while pos < bytes.count {
            let oldi = i
            var w = 1
            var k = Self.base
            while true {
                guard pos < bytes.count, let digit = Self.digitValue(bytes[pos]) else { return nil }
                pos += 1
                let (dw, o1) = digit.multipliedReportingOverflow(by: w)
                guard !o1, i + dw <= Self.maxInt else { return nil }
                i += dw
                let t = k <= bias ? Self.tMin : (k >= bias + Self.tMax ? Self.tMax : k - bias)
                if digit < t { break }
                let (nw, o2) = w.multipliedReportingOverflow(by: Self.base - t)
                guard !o2, nw <= Self.maxInt else { return nil }
                w = nw
                k += Self.base
            }
            bias = Self.adapt(i - oldi, output.count + 1, oldi == 0)
            n += i / (output.count + 1)
            guard n <= 0x10FFFF else { return nil }
            i %= output.count + 1
            output.insert(n, at: i)
            i += 1
        }
        var result = ""
        for v in output {
            guard let scalar = Unicode.Scalar(UInt32(v)) else { return nil }
            result.unicodeScalars.append(scalar)
        }
        return result
    }
}
