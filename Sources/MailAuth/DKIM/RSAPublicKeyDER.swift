// RSA public keys from DKIM p= values: DER SubjectPublicKeyInfo (RFC 5280 4.1, what RFC 6376
// 3.6.1 asks for) or a bare PKCS#1 RSAPublicKey (RFC 8017 A.1.1, which some signers publish
// and mox accepts too).
//
// The DER is read here, and the key made from its modulus and exponent, instead of handing the
// bytes to swift-crypto's DER constructor: in swift-crypto 3.x that constructor frees its key
// twice when the bytes are neither form, aborting the process, and p= comes from anyone's DNS.

import SwiftASN1
import _CryptoExtras

enum RSAPublicKeyDER {
    /// rsaEncryption, RFC 8017 A.1.
    static let rsaEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 1]

    /// The modulus and exponent, big-endian; nil when the bytes are neither form.
    static func numbers(_ der: [UInt8]) -> (n: ArraySlice<UInt8>, e: ArraySlice<UInt8>)? {
        guard let root = try? DER.parse(der) else { return nil }
        if let pkcs1 = try? Self.pkcs1(root) { return pkcs1 }
        // SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
        // AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL }
        let key = try? DER.sequence(root, identifier: .sequence) { nodes -> ASN1BitString in
            guard let algorithm = nodes.next() else { throw ASN1Error.invalidASN1Object(reason: "no algorithm") }
            let oid = try DER.sequence(algorithm, identifier: .sequence) { fields -> ASN1ObjectIdentifier in
                let oid = try ASN1ObjectIdentifier(derEncoded: &fields)
                // RFC 3279 2.3.1: the parameters are NULL; like Go's x509 (mox), also take none.
                if let parameters = fields.next() { _ = try ASN1Null(derEncoded: parameters) }
                return oid
            }
            guard oid == Self.rsaEncryption else { throw ASN1Error.invalidASN1Object(reason: "not rsaEncryption") }
            return try ASN1BitString(derEncoded: &nodes)
        }
        guard let key, key.paddingBits == 0, let inner = try? DER.parse(key.bytes) else { return nil }
        return try? Self.pkcs1(inner)
    }

    /// RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
    static func pkcs1(_ node: ASN1Node) throws -> (n: ArraySlice<UInt8>, e: ArraySlice<UInt8>) {
        try DER.sequence(node, identifier: .sequence) { nodes in
            let n = try ArraySlice<UInt8>(derEncoded: &nodes)
            let e = try ArraySlice<UInt8>(derEncoded: &nodes)
            return (n, e)
        }
    }

    /// The verification key, for keys of at least 1024 bits (RFC 8301 3.2); nil otherwise.
    static func publicKey(_ der: [UInt8]) -> _RSA.Signing.PublicKey? {
        guard let (n, e) = Self.numbers(der),
            let key = try? _RSA.Signing.PublicKey(n: Array(n), e: Array(e)), key.keySizeInBits >= 1024
        else { return nil }
        return key
    }
}
