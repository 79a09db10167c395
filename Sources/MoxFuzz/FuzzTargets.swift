// The parsers that read what anyone on the network sends, as fuzz targets: each takes arbitrary
// bytes and either refuses them with the parser's typed error or accepts them, and an accepted
// input must also satisfy the target's round-trip property. A violated property is a fatal
// error, which libFuzzer reports as a crash with the input that caused it.
//
// The same functions replay the corpora in Tests/MoxFuzzTests/Corpus (part of `make test`), and
// the mox-fuzz executable hands them to libFuzzer (scripts/fuzz).

import MailAuth
import MailDNS

#if canImport(Glibc)
import Glibc
#endif

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
    public func run(_ input: [UInt8]) -> Bool {
        switch self {
        case .dnsMessage: Self.dnsMessage(input)
        case .spfRecord: Self.spfRecord(input)
        case .dkimHeader: Self.dkimHeader(input)
        }
    }

    /// A parsed message, written out again (uncompressed) and parsed back, is the same message;
    /// and writing that out gives the same bytes.
    static func dnsMessage(_ input: [UInt8]) -> Bool {
        guard let message = try? DNSMessage(parsing: input) else { return false }
        let wire = message.wire
        let again: DNSMessage
        do {
            again = try DNSMessage(parsing: wire)
        } catch {
            fatalError("dns-message: re-encoded message does not parse: \(error)")
        }
        guard again == message else { fatalError("dns-message: re-encoded message differs:\n\(message)\n\(again)") }
        guard again.wire == wire else { fatalError("dns-message: encoding is not stable") }
        return true
    }

    /// A parsed record printed and parsed again is the same record.
    static func spfRecord(_ input: [UInt8]) -> Bool {
        let text = String(decoding: input, as: UTF8.self)
        guard let record = try? SPFRecord(parsing: text) else { return false }
        let printed = record.description
        let again: SPFRecord
        do {
            again = try SPFRecord(parsing: printed)
        } catch {
            fatalError("spf-record: printed record \"\(printed)\" does not parse: \(error)")
        }
        guard again == record else { fatalError("spf-record: \"\(text)\" printed as \"\(printed)\" parses differently") }
        return true
    }

    /// Every DKIM-Signature field of the header either fails to parse or gives a signature that
    /// keeps RFC 6376's rules: a d= and s=, a signed From, an i= within d=, x= not before t=.
    static func dkimHeader(_ input: [UInt8]) -> Bool {
        var accepted = false
        if let fields = RawHeader.fields(input) {
            for field in fields where field.lowercasedName == "dkim-signature" {
                guard let colon = field.raw.firstIndex(of: UInt8(ascii: ":")) else {
                    fatalError("dkim-header: field without colon")
                }
                guard let sig = try? DKIMSignature(parsingValue: Array(field.raw[(colon + 1)...])) else { continue }
                accepted = true
                guard !sig.domain.isEmpty, !sig.selector.isEmpty, sig.domain == sig.domain.lowercased() else {
                    fatalError("dkim-header: empty or upper-case d= or s=")
                }
                guard sig.signedHeaders.contains(where: { $0.lowercased() == "from" }) else {
                    fatalError("dkim-header: signature without signed From accepted")
                }
                let identityDomain = sig.identity.split(separator: "@", omittingEmptySubsequences: false).last.map { $0.lowercased() } ?? ""
                guard identityDomain == sig.domain || identityDomain.hasSuffix("." + sig.domain) else {
                    fatalError("dkim-header: i= outside d= accepted")
                }
                if let t = sig.signTime, let x = sig.expireTime, x < t { fatalError("dkim-header: x= before t= accepted") }
                guard !sig.signature.isEmpty, !sig.bodyHash.isEmpty else { fatalError("dkim-header: empty b= or bh= accepted") }
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
