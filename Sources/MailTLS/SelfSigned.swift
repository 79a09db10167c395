// Self-signed certificates, for `mox localserve` (TLS on loopback without a CA) and for tests.

import Crypto
import FoundationEssentials
import SwiftASN1
import X509

/// A generated certificate and its private key, both PEM encoded.
public struct GeneratedCertificate: Sendable {
    public var certificatePEM: String
    public var privateKeyPEM: String
}

public enum SelfSigned {
    /// A new ECDSA P-256 key and a certificate for `hostnames` signed with it, valid from an hour
    /// ago (clocks differ) for four years, as mox localserve makes them.
    public static func generate(
        hostnames: [String],
        organization: String = "mox localserve",
        now: Date = Date()
    ) throws(TLSSetupError) -> GeneratedCertificate {
        let key = P256.Signing.PrivateKey()
        do {
            let name = try DistinguishedName {
                OrganizationName(organization)
                CommonName(hostnames.first ?? "localhost")
            }
            let issuer = try DistinguishedName { OrganizationName(organization) }
            let extensions = try Certificate.Extensions {
                SubjectAlternativeNames(hostnames.map { GeneralName.dnsName($0) })
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
            }
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: Certificate.PublicKey(key.publicKey),
                notValidBefore: now - 3600,
                notValidAfter: now + 4 * 365 * 24 * 3600,
                issuer: issuer,
                subject: name,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: extensions,
                issuerPrivateKey: Certificate.PrivateKey(key)
            )
            return GeneratedCertificate(
                certificatePEM: try certificate.serializeAsPEM().pemString + "\n",
                privateKeyPEM: key.pemRepresentation + "\n"
            )
        } catch {
            throw TLSSetupError("generating a self-signed certificate: \(error)")
        }
    }

    /// A new Ed25519 key and a minimal self-signed certificate for TLS client authentication
    /// (`mox config tlspubkey gen`): only its public key matters to the server. Also returns the
    /// key's 32-byte seed.
    public static func clientCertificate(
        commonName: String,
        now: Date = Date()
    ) throws(TLSSetupError) -> (certificate: GeneratedCertificate, seed: [UInt8]) {
        let key = Curve25519.Signing.PrivateKey()
        do {
            let name = try DistinguishedName { CommonName(commonName) }
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: Certificate.PublicKey(key.publicKey),
                notValidBefore: now - 3600,
                notValidAfter: now + 10 * 365 * 24 * 3600,
                issuer: name,
                subject: name,
                signatureAlgorithm: .ed25519,
                extensions: try Certificate.Extensions {
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([.clientAuth])
                },
                issuerPrivateKey: Certificate.PrivateKey(key)
            )
            let generated = GeneratedCertificate(
                certificatePEM: try certificate.serializeAsPEM().pemString + "\n",
                privateKeyPEM: Self.ed25519PKCS8PEM(key)
            )
            return (generated, Array(key.rawRepresentation))
        } catch {
            throw TLSSetupError("generating a client certificate: \(error)")
        }
    }

    /// A new Ed25519 private key in PKCS #8 PEM form ("PRIVATE KEY"), as DKIM keys are stored.
    public static func ed25519PrivateKeyPEM() -> String {
        Self.ed25519PKCS8PEM(Curve25519.Signing.PrivateKey())
    }

    static func ed25519PKCS8PEM(_ key: Curve25519.Signing.PrivateKey) -> String {
        // RFC 8410 7: PKCS #8 with algorithm id-Ed25519 (1.3.101.112) and the 32-byte seed
        // wrapped in an OCTET STRING.
        let prefix: [UInt8] = [
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
        ]
        let der = prefix + Array(key.rawRepresentation)
        return PEMDocument(type: "PRIVATE KEY", derBytes: der).pemString + "\n"
    }
}

/// A certificate or key that could not be made or loaded, with the file concerned when there is one.
public struct TLSSetupError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
