/// An email address: localpart@domain.
public struct Address: Hashable, Sendable, CustomStringConvertible {
    public var localpart: Localpart
    public var domain: Domain

    public enum ParseError: Error, Equatable, Sendable {
        case localpart(Localpart.ParseError)
        case missingAt(String)
        case domain(Domain.ParseError)
    }

    public init(localpart: Localpart, domain: Domain) {
        self.localpart = localpart
        self.domain = domain
    }

    // RFC 5321 4.1.2: Mailbox = Local-part "@" ( Domain / address-literal )
    // Address literals are not accepted here.
    public init(parsing text: String) throws(ParseError) {
        let bytes = Array(text.utf8)
        var p = LocalpartParser(bytes: bytes)
        let lp: String
        do {
            lp = try p.parse()
        } catch {
            throw .localpart(error)
        }
        guard p.pos < bytes.count, bytes[p.pos] == UInt8(ascii: "@") else { throw .missingAt(text) }
        let domainText = String(decoding: bytes[(p.pos + 1)...], as: UTF8.self)
        do {
            self.domain = try Domain(parsing: domainText)
        } catch {
            throw .domain(error)
        }
        self.localpart = Localpart(uncheckedValue: lp)
    }

    public static func parse(_ text: String) -> Address? {
        try? Address(parsing: text)
    }

    /// The address with the ASCII form of the domain.
    public var formatted: String { self.localpart.formatted + "@" + self.domain.ascii }
    /// The address with the Unicode form of the domain, for SMTPUTF8 and display.
    public var formattedUnicode: String { self.localpart.formatted + "@" + self.domain.unicode }

    public var description: String { self.formatted }
}

/// An SMTP reverse-path or forward-path: an address in angle brackets, or the null path `<>`.
public struct Path: Hashable, Sendable, CustomStringConvertible {
    /// Nil for the null reverse-path.
    public var address: Address?

    public static let null = Path(address: nil)

    public enum ParseError: Error, Equatable, Sendable {
        case missingBrackets(String)
        case address(Address.ParseError)
        case badSourceRoute(String)
    }

    public init(address: Address?) {
        self.address = address
    }

    public var isNull: Bool { self.address == nil }

    // RFC 5321 4.1.2:
    //   Path = "<" [ A-d-l ":" ] Mailbox ">"
    //   A-d-l = At-domain *( "," At-domain )   ; source route, must be accepted and ignored (RFC 5321 C)
    //   Reverse-path = Path / "<>"
    public init(parsing text: String) throws(ParseError) {
        guard text.hasPrefix("<"), text.hasSuffix(">"), text.utf8.count >= 2 else { throw .missingBrackets(text) }
        var inner = Substring(text.dropFirst().dropLast())
        if inner.isEmpty {
            self.address = nil
            return
        }
        if inner.hasPrefix("@") {
            guard let colon = inner.firstIndex(of: ":") else { throw .badSourceRoute(text) }
            for hop in inner[..<colon].split(separator: ",", omittingEmptySubsequences: false) {
                guard hop.hasPrefix("@"), Domain.parse(String(hop.dropFirst())) != nil else {
                    throw .badSourceRoute(text)
                }
            }
            inner = inner[inner.index(after: colon)...]
        }
        do {
            self.address = try Address(parsing: String(inner))
        } catch {
            throw .address(error)
        }
    }

    public var formatted: String { "<" + (self.address?.formatted ?? "") + ">" }
    public var description: String { self.formatted }
}
