// Server-side TLS set-up for the listeners: certificates and keys from files named in mox.conf.

import Crypto
import FoundationEssentials
import NIOCore
import NIOSSL
import SwiftASN1
import X509

/// The TLS context of a listener and what SASL channel binding needs from it.
public struct ServerTLS: Sendable {
    public let context: NIOSSLContext
    /// RFC 5929 4.1 "tls-server-end-point": the hash of the server's certificate, with the hash of
    /// its signature algorithm (SHA-256 for MD5 and SHA-1). The same for every connection.
    public let serverEndPoint: [UInt8]
    /// Clients are asked for a certificate, for TLS client authentication (mox's listener
    /// setting ClientAuthDisabled turns it off). Any certificate is accepted in the handshake:
    /// whether its public key logs in to an account is decided later (see `ClientCertificate`).
    public let requestsClientCertificates: Bool

    /// Loads a certificate chain (PEM, leaf first) and its private key (PEM).
    public static func load(
        certificateFile: String,
        keyFile: String,
        requestClientCertificates: Bool = true
    ) throws(TLSSetupError) -> ServerTLS {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateFile)
        } catch {
            throw TLSSetupError("\(certificateFile): reading certificates: \(error)")
        }
        guard let leaf = chain.first else {
            throw TLSSetupError("\(certificateFile): no certificate in the file")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        } catch {
            throw TLSSetupError("\(keyFile): reading private key: \(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(key)
        )
        configuration.minimumTLSVersion = .tlsv12
        if requestClientCertificates {
            // A certificate is asked for but not required; presented ones pass through the
            // handlers' verification callback (`makeHandler`), not a trust store.
            configuration.certificateVerification = .optionalVerification
            // The library's default list for peer signatures lacks Ed25519, the key type mox
            // generates for client certificates; without it such a client cannot present one.
            configuration.verifySignatureAlgorithms = [
                .ed25519, .ecdsaSecp256R1Sha256, .rsaPssRsaeSha256, .rsaPkcs1Sha256, .ecdsaSecp384R1Sha384,
                .rsaPssRsaeSha384, .rsaPkcs1Sha384, .ecdsaSecp521R1Sha512, .rsaPssRsaeSha512, .rsaPkcs1Sha512,
            ]
        }
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSSetupError(
                "\(certificateFile), \(keyFile): certificate and key do not make a TLS context: \(error)"
            )
        }
        let der: [UInt8]
        do {
            der = try leaf.toDERBytes()
        } catch {
            throw TLSSetupError("\(certificateFile): encoding certificate: \(error)")
        }
        return ServerTLS(
            context: context,
            serverEndPoint: Self.endPointHash(der),
            requestsClientCertificates: requestClientCertificates
        )
    }

    /// The TLS handler for a new connection. Client certificates, when asked for, are accepted
    /// whoever signed them: they are identified by their public key (self-signed ones are the
    /// usual case), and a connection without one carries on as well.
    public func makeHandler() -> NIOSSLServerHandler {
        guard self.requestsClientCertificates else { return NIOSSLServerHandler(context: self.context) }
        return NIOSSLServerHandler(context: self.context) { _, promise in
            promise.succeed(.certificateVerified)
        }
    }

    /// RFC 5929 4.1: hash the DER certificate with its signature's hash function, but SHA-256
    /// where that is MD5 or SHA-1.
    static func endPointHash(_ der: [UInt8]) -> [UInt8] {
        let algorithm = (try? Certificate(derEncoded: der))?.signatureAlgorithm
        switch algorithm {
        case .some(.ecdsaWithSHA384), .some(.sha384WithRSAEncryption):
            return Array(SHA384.hash(data: der))
        case .some(.ecdsaWithSHA512), .some(.sha512WithRSAEncryption):
            return Array(SHA512.hash(data: der))
        default:
            return Array(SHA256.hash(data: der))
        }
    }
}

/// What TLS client authentication needs of a client's certificate: its public key's
/// fingerprint (as mox computes it) and a description.
public struct ClientCertificate: Sendable, Hashable {
    /// SHA-256 of the DER SubjectPublicKeyInfo, base64url without padding.
    public var fingerprint: String
    /// "ed25519", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "rsa-2048" and so on.
    public var keyType: String
    /// The subject's common name, or "" when it has none.
    public var commonName: String

    public init(der: [UInt8]) throws(TLSSetupError) {
        let certificate: Certificate
        do {
            certificate = try Certificate(derEncoded: der)
        } catch {
            throw TLSSetupError("parsing certificate: \(error)")
        }
        let spki: [UInt8]
        do {
            var serializer = DER.Serializer()
            try serializer.serialize(certificate.publicKey)
            spki = serializer.serializedBytes
        } catch {
            throw TLSSetupError("encoding the certificate's public key: \(error)")
        }
        self.fingerprint = Self.base64URL(Array(SHA256.hash(data: spki)))
        let key = certificate.publicKey
        if Curve25519.Signing.PublicKey(key) != nil {
            self.keyType = "ed25519"
        } else if P256.Signing.PublicKey(key) != nil {
            self.keyType = "ecdsa-p256"
        } else if P384.Signing.PublicKey(key) != nil {
            self.keyType = "ecdsa-p384"
        } else if P521.Signing.PublicKey(key) != nil {
            self.keyType = "ecdsa-p521"
        } else {
            self.keyType = String(describing: key).uppercased().contains("RSA") ? "rsa" : "unknown"
        }
        var commonName = ""
        for rdn in certificate.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                commonName = attribute.value.description
            }
        }
        self.commonName = commonName
    }

    /// The certificate the client presented in the TLS handshake on `channel` (whose pipeline
    /// has the server's TLS handler, after the handshake), or nil when it sent none.
    public static func presented(on channel: any Channel) async -> ClientCertificate? {
        let der: [UInt8]? = try? await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self).peerCertificate?.toDERBytes()
        }.get()
        guard let der else { return nil }
        return try? ClientCertificate(der: der)
    }

    /// The certificate in a PEM file's first CERTIFICATE block, as DER.
    public static func der(fromPEM text: String) throws(TLSSetupError) -> [UInt8] {
        do {
            let document = try PEMDocument(pemString: text)
            guard document.discriminator == "CERTIFICATE" else {
                throw TLSSetupError("expected a CERTIFICATE block, found \(document.discriminator)")
            }
            return document.derBytes
        } catch let error as TLSSetupError {
            throw error
        } catch {
            throw TLSSetupError("no PEM certificate: \(error)")
        }
    }

    /// The certificate as PEM text (RFC 7468), for printing.
    public static func pem(fromDER der: [UInt8]) -> String {
        PEMDocument(type: "CERTIFICATE", derBytes: der).pemString + "\n"
    }

    /// RFC 4648 5 base64url without padding, as mox writes fingerprints and keys.
    public static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacing("+", with: "-").replacing("/", with: "_").replacing("=", with: "")
    }
}
