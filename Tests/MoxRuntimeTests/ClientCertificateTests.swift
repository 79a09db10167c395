import MailTLS
import Testing

/// The fingerprint of a TLS client certificate's public key, as `mox config tlspubkey` keeps it.
@Suite struct ClientCertificateTests {
    // `openssl req -x509 -newkey ed25519 -subj "/CN=fixture client"`; its fingerprint from
    // `openssl x509 -pubkey | openssl pkey -pubin -outform DER | sha256 | base64url`.
    static let pem = """
        -----BEGIN CERTIFICATE-----
        MIIBRTCB+KADAgECAhMlbvWXx3p/Dw0tJJJufe6qRHOMMAUGAytlcDAZMRcwFQYD
        VQQDDA5maXh0dXJlIGNsaWVudDAeFw0yNjEyMDEyMjIyNTBaFw0zNjExMjgyMjIy
        NTBaMBkxFzAVBgNVBAMMDmZpeHR1cmUgY2xpZW50MCowBQYDK2VwAyEAK971Tgvu
        UAgx7Z7GP2MtSWjnx0vts4ogZ5MWvxKeMf2jUzBRMB0GA1UdDgQWBBQM/J74EhLi
        9i4ZbfyifQjI2UBpWjAfBgNVHSMEGDAWgBQM/J74EhLi9i4ZbfyifQjI2UBpWjAP
        BgNVHRMBAf8EBTADAQH/MAUGAytlcANBAF10tsZwdVQVAh2S8+G4Mjr96tTl/fAy
        OmpJ9mlxjrM2cJXz4ycZoxWoZoNCo9a+NIfXu8qHqUcflk7Ll/vxZAQ=
        -----END CERTIFICATE-----

        """

    @Test func fingerprintTypeAndName() throws {
        let certificate = try ClientCertificate(der: try ClientCertificate.der(fromPEM: Self.pem))
        #expect(certificate.fingerprint == "O4sxawpaXGc2IN_5XXYBuHE2uVEb2Th84kL7ktxOrwg")
        #expect(certificate.keyType == "ed25519")
        #expect(certificate.commonName == "fixture client")
    }

    @Test func notACertificate() {
        #expect(throws: TLSSetupError.self) { try ClientCertificate.der(fromPEM: "no pem here") }
        #expect(throws: TLSSetupError.self) { try ClientCertificate(der: [0x30, 0x00]) }
    }
}
