// Anchors for headings and config lines. The rule matches the one mox's website uses, so
// links such as /features/#hdr-localserve keep working across both sites.

public enum Anchor {
    /// Lowercases letters and keeps letters and digits of any script; every run of other
    /// characters becomes a single `-`; leading and trailing runs are dropped.
    /// "SPF/DKIM/DMARC" gives "spf-dkim-dmarc", "Über Größe!" gives "über-größe".
    public static func name(_ text: String) -> String {
        var out = ""
        var pendingDash = false
        for scalar in text.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
                .decimalNumber, .letterNumber, .otherNumber:
                if pendingDash && !out.isEmpty {
                    out += "-"
                }
                pendingDash = false
                let lower = scalar.properties.lowercaseMapping
                out += lower.unicodeScalars.count == 1 ? lower : String(scalar)
            default:
                pendingDash = true
            }
        }
        return out
    }
}

/// The ids used so far on one page; a repeated id gets `-1`, `-2`, ... appended.
public struct AnchorSet: Sendable {
    private var used: Set<String> = []

    public init() {}

    public mutating func unique(_ id: String) -> String {
        if self.used.insert(id).inserted {
            return id
        }
        var n = 1
        while !self.used.insert("\(id)-\(n)").inserted {
            n += 1
        }
        return "\(id)-\(n)"
    }
}
