// Parsed DKIM key records and their public keys, kept by the TXT text they came from. Most
// incoming mail comes from few signers, and parsing a record and an RSA key (DER, BoringSSL)
// costs more than checking the signature itself. Keyed by the record's text, the cache is
// never stale: a changed record in DNS is a different key, and DNS TTLs stay the resolver's.

import Crypto
import Synchronization
import _CryptoExtras

/// A key record's public key, ready to verify with. Unchecked: swift-crypto 3 does not mark
/// Curve25519's public key Sendable, though it is an immutable value (32 bytes).
enum DKIMPublicKey: @unchecked Sendable {
    case rsa(_RSA.Signing.PublicKey)
    case ed25519(Curve25519.Signing.PublicKey)
    /// p= did not hold a usable key of the record's type; the string says why.
    case invalid(String)

    init(record: DKIMKeyRecord) {
        switch record.keyType {
        case "ed25519":
            // RFC 8463 3: the raw 32-byte public key.
            if let key = try? Curve25519.Signing.PublicKey(rawRepresentation: record.publicKey) {
                self = .ed25519(key)
            } else {
                self = .invalid("invalid ed25519 public key")
            }
        case "rsa":
            // RFC 8301 3.2: keys of at least 1024 bits.
            if let key = RSAPublicKeyDER.publicKey(record.publicKey) {
                self = .rsa(key)
            } else {
                self = .invalid("invalid or too small rsa public key (at least 1024 bits)")
            }
        default:
            self = .invalid("unknown key type k=\(record.keyType)")
        }
    }
}

/// A bounded cache of parsed key records. When full, a tenth of the entries (any) make room;
/// texts longer than any real key record (a 16384-bit RSA key is under 3 KB) are parsed each
/// time and never kept, so a sender cannot fill memory with huge records.
public final class DKIMKeyCache: Sendable {
    struct Entry: Sendable {
        var record: Result<DKIMKeyRecord, DKIMSyntaxError>
        /// Made on first use for a signature.
        var key: DKIMPublicKey?
    }

    let entries = Mutex<[String: Entry]>([:])
    let capacity: Int

    /// The process-wide cache used by verifiers unless they are given their own.
    public static let shared = DKIMKeyCache()

    /// The longest record text kept.
    static let maxTextLength = 4096

    public init(capacity: Int = 1000) {
        self.capacity = max(1, capacity)
    }

    /// The parsed record for a TXT text, parsed now if it is not cached.
    func record(_ text: String) -> Result<DKIMKeyRecord, DKIMSyntaxError> {
        if let entry = self.entries.withLock({ $0[text] }) { return entry.record }
        let record = Result { () throws(DKIMSyntaxError) in try DKIMKeyRecord(parsing: text) }
        self.store(text) { $0 = $0 ?? Entry(record: record, key: nil) }
        return record
    }

    /// The public key of the record that `text` parsed to.
    func publicKey(_ text: String, record: DKIMKeyRecord) -> DKIMPublicKey {
        if let key = self.entries.withLock({ $0[text]?.key }) { return key }
        let key = DKIMPublicKey(record: record)
        self.store(text) { entry in
            if entry == nil { entry = Entry(record: .success(record), key: nil) }
            entry?.key = key
        }
        return key
    }

    var count: Int { self.entries.withLock { $0.count } }

    private func store(_ text: String, _ update: (inout Entry?) -> Void) {
        guard text.utf8.count <= Self.maxTextLength else { return }
        // The evicted keys are freed after the lock is released.
        var evicted: [Entry] = []
        self.entries.withLock { entries in
            if entries[text] == nil, entries.count >= self.capacity {
                for key in entries.keys.prefix(max(1, self.capacity / 10)) {
                    if let entry = entries.removeValue(forKey: key) { evicted.append(entry) }
                }
            }
            update(&entries[text])
        }
        evicted.removeAll()
    }
}
