// The parsers that read what anyone on the network sends, as fuzz targets: each takes arbitrary
// bytes and either refuses them with the parser's typed error or accepts them, and an accepted
// input must also satisfy the target's round-trip property. A violated property is thrown as a
// FuzzViolation: the mox-fuzz driver turns it into a crash, which libFuzzer reports with the
// input that caused it, and the corpus replay records it as a test failure naming the input.
//
// The same functions replay the corpora in Tests/MoxFuzzTests/Corpus (part of `make test`), and
// the mox-fuzz executable hands them to libFuzzer (scripts/fuzz).

import MailAuth
import MailDNS

#if canImport(Glibc)
import Glibc
#endif

/// An accepted input that breaks its target's property.
public struct FuzzViolation: Error, CustomStringConvertible {
    public var target: FuzzTarget
    public var reason: String

    public var description: String { "\(self.target.rawValue): \(self.reason)" }
}

public enum FuzzTarget: String, CaseIterable, Sendable {
    /// A DNS message as received over UDP (RFC 1035 4.1): names with compression pointers,
    /// EDNS0, every record type the resolver decodes.
    case dnsMessage = "dns-message"
    /// An SPF record's text (RFC 7208 12).
    case spfRecord = "spf-record"
    /// A message header holding DKIM-Signature fields (RFC 6376 3.5), and the same bytes as a DKIM
    /// key record (RFC 6376 3.6.1).
    case dkimHeader = "dkim-header"

    /// The target named by the MOX_FUZZ_TARGET environment variable, for the mox-fuzz driver.
    public static let selected: FuzzTarget? = getenv("MOX_FUZZ_TARGET").flatMap { FuzzTarget(rawValue: String(cString: $0)) }

    /// Runs one input; returns whether the parser accepted it.
    @discardableResult
    public func run(_ input: [UInt8]) throws(FuzzViolation) -> Bool {
        switch self {
        case .dnsMessage: try self.dnsMessage(input)
        case .spfRecord: try self.spfRecord(input)
        case .dkimHeader: try self.dkimHeader(input)
        }
    }

    func violation(_ reason: String) -> FuzzViolation { FuzzViolation(target: self, reason: reason) }

    /// Encodes an accepted value and decodes it again: the value must come back equal, and
    /// encoding it again must give the same form.
    func roundTrip<Value: Equatable, Form: Equatable>(
        _ value: Value, encode: (Value) -> Form, decode: (Form) throws -> Value
    ) throws(FuzzViolation) {
        let form = encode(value)
        let again: Value
        do {
            again = try decode(form)
        } catch {
            throw self.violation("re-encoded \(form) does not parse: \(error)")
        }
        guard again == value else { throw self.violation("re-encoded value differs:\n\(value)\n\(again)") }
        guard encode(again) == form else { throw self.violation("encoding is not stable: \(form)") }
    }

    /// A parsed message, written out again (uncompressed) and parsed back, is the same message.
    func dnsMessage(_ input: [UInt8]) throws(FuzzViolation) -> Bool {
        guard let message = try? DNSMessage(parsing: input) else { return false }
        try self.roundTrip(message, encode: \.wire, decode: { try DNSMessage(parsing: $0) })
        return true
    }

    /// A parsed record, printed and parsed again, is the same record.
    func spfRecord(_ input: [UInt8]) throws(FuzzViolation) -> Bool {
        guard let record = try? SPFRecord(parsing: String(decoding: input, as: UTF8.self)) else { return false }
        try self.roundTrip(record, encode: \.description, decode: { try SPFRecord(parsing: $0) })
        return true
    }

    /// Every DKIM-Signature field of the header either fails to parse or gives a signature that
    /// keeps RFC 6376's rules: a d= and s=, a signed From, an i= within d=, x= not before t=.
    func dkimHeader(_ input: [UInt8]) throws(FuzzViolation) -> Bool {
        var accepted = false
        if let fields = RawHeader.fields(input) {
            for field in fields where field.lowercasedName == "dkim-signature" {
                guard let colon = field.raw.firstIndex(of: UInt8(ascii: ":")) else {
                    throw self.violation("field without colon")
                }
                guard let sig = try? DKIMSignature(parsingValue: Array(field.raw[(colon + 1)...])) else { continue }
                accepted = true
                guard !sig.domain.isEmpty, !sig.selector.isEmpty, sig.domain == sig.domain.lowercased() else {
                    throw self.violation("empty or upper-case d= or s=")
                }
                guard sig.signedHeaders.contains(where: { $0.lowercased() == "from" }) else {
                    throw self.violation("signature without signed From accepted")
                }
                let identityDomain = sig.identity.split(separator: "@", omittingEmptySubsequences: false).last.map { $0.lowercased() } ?? ""
                guard identityDomain == sig.domain || identityDomain.hasSuffix("." + sig.domain) else {
                    throw self.violation("i= outside d= accepted")
                }
                if let t = sig.signTime, let x = sig.expireTime, x < t { throw self.violation("x= before t= accepted") }
                guard !sig.signature.isEmpty, !sig.bodyHash.isEmpty else { throw self.violation("empty b= or bh= accepted") }
            }
        }
        if let record = try? DKIMKeyRecord(parsing: String(decoding: input, as: UTF8.self)) {
            accepted = true
            // Asking for the key size reads p= as RSA DER, whatever it holds.
            _ = DKIMKeyRecord.rsaBits(record.publicKey)
        }
        return accepted
    }
}
