// Server-side TLS set-up for the listeners: certificates and keys from files named in mox.conf.

import Crypto
import FoundationEssentials
import NIOSSL
import SwiftASN1
import X509

/// The TLS context of a listener and what SASL channel binding needs from it.
public struct ServerTLS: Sendable {
    public let context: NIOSSLContext
    /// RFC 5929 4.1 "tls-server-end-point": the hash of the server's certificate, with the hash of
    /// its signature algorithm (SHA-256 for MD5 and SHA-1). The same for every connection.
    public let serverEndPoint: [UInt8]

    /// Loads a certificate chain (PEM, leaf first) and its private key (PEM).
    public static func load(certificateFile: String, keyFile: String) throws(TLSSetupError) -> ServerTLS {
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
        return ServerTLS(context: context, serverEndPoint: Self.endPointHash(der))
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
