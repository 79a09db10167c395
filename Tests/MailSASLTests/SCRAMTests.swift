import MailSASL
import Testing

/// An exchange from an RFC, message by message.
struct RFCExample: Sendable, CustomTestStringConvertible {
    var name: String
    var mechanism: SASLMechanism
    var password: String
    var salt: String
    var iterations: Int
    var clientNonce: String
    var serverNonce: String
    var clientFirst: String
    var serverFirst: String
    var clientFinal: String
    var serverFinal: String

    var testDescription: String { self.name }

    static let all: [RFCExample] = [
        // RFC 5802 5
        RFCExample(
            name: "RFC 5802 5 SCRAM-SHA-1",
            mechanism: .scramSHA1,
            password: "pencil",
            salt: "QSXCR+Q6sek8bf92",
            iterations: 4096,
            clientNonce: "fyko+d2lbbFgONRv9qkxdawL",
            serverNonce: "3rfcNHYJY1ZVvWVs7j",
            clientFirst: "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
            serverFirst: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
            clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
            serverFinal: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ="
        ),
        // RFC 7677 3
        RFCExample(
            name: "RFC 7677 3 SCRAM-SHA-256",
            mechanism: .scramSHA256,
            password: "pencil",
            salt: "W22ZaJ0SNY7soEsUEjb6gQ==",
            iterations: 4096,
            clientNonce: "rOprNGfwEbeRWgbNEkqO",
            serverNonce: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
            clientFirst: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
            serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            clientFinal:
                "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
            serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        ),
    ]

    var keys: SCRAMServerKeys {
        SCRAMServerKeys(
            hash: self.mechanism.scramHash ?? .sha256,
            password: self.password,
            salt: SASLBase64.decode(self.salt) ?? [],
            iterations: self.iterations
        )
    }
}

@Suite struct SCRAMRFCExampleTests {
    @Test(arguments: RFCExample.all)
    func server(example: RFCExample) {
        let serverNonce = example.serverNonce
        var server = SASLServer(
            mechanism: example.mechanism,
            hostname: "mail.example.org",
            successData: .withSuccess,
            nonce: { serverNonce }
        )
        #expect(
            server.start(initialResponse: bytes(example.clientFirst))
                == .needSCRAMKeys(username: "user", hash: example.mechanism.scramHash ?? .sha256)
        )
        #expect(server.credentialsFound(example.keys) == .challenge(bytes(example.serverFirst)))
        #expect(
            server.receive(bytes(example.clientFinal))
                == .success(username: "user", additionalData: bytes(example.serverFinal))
        )
        #expect(server.isFinished)
    }

    @Test(arguments: RFCExample.all)
    func client(example: RFCExample) throws {
        var client = SCRAMClient(
            hash: example.mechanism.scramHash ?? .sha256,
            username: "user",
            password: "pencil",
            nonce: example.clientNonce
        )
        #expect(text(client.clientFirst()) == example.clientFirst)
        #expect(text(try client.serverFirst(bytes(example.serverFirst))) == example.clientFinal)
        try client.serverFinal(bytes(example.serverFinal))
        #expect(throws: SASLError.self) { try client.serverFinal(bytes("v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=")) }
        #expect(throws: SASLError.self) { try client.serverFinal(bytes("e=invalid-proof")) }
    }

    /// The salted password and derived keys, against the RFC 5802 5 example's values.
    @Test func derivation() {
        let salt = SASLBase64.decode("QSXCR+Q6sek8bf92") ?? []
        let salted = SCRAM.saltedPassword(password: "pencil", salt: salt, iterations: 4096, hash: .sha1)
        #expect(salted.count == 20)
        let keys = SCRAMServerKeys(hash: .sha1, saltedPassword: salted, salt: salt, iterations: 4096)
        #expect(keys == SCRAMServerKeys(hash: .sha1, password: "pencil", salt: salt, iterations: 4096))
        #expect(keys.storedKey.count == 20)
        #expect(keys.serverKey.count == 20)
    }
}

/// Runs a whole exchange between `SCRAMClient` and `SASLServer`, with an optional change to the
/// client-final message, and returns the server's last step.
private func exchange(
    mechanism: SASLMechanism,
    serverBinding: ChannelBinding? = nil,
    plusAdvertised: Bool = false,
    clientBinding: SCRAMClient.ChannelBindingUse = .notSupported,
    authzid: String? = nil,
    username: String = "mjl",
    password: String = "secret",
    storedPassword: String = "secret",
    knownUser: Bool = true,
    successData: SASLServer.SuccessData = .withSuccess,
    finalAck: [UInt8]? = nil,
    tamper: (String) -> String = { $0 }
) throws -> (SASLStep, SCRAMClient) {
    let hash = mechanism.scramHash ?? .sha256
    var server = SASLServer(
        mechanism: mechanism,
        channelBinding: serverBinding,
        plusAdvertised: plusAdvertised,
        hostname: "mail.example.org",
        successData: successData,
        nonce: { "servernonce" }
    )
    var client = SCRAMClient(
        hash: hash,
        username: username,
        password: password,
        authzid: authzid,
        channelBinding: clientBinding,
        nonce: "clientnonce"
    )
    var step = server.start(initialResponse: client.clientFirst())
    guard case .needSCRAMKeys(let name, let neededHash) = step else { return (step, client) }
    #expect(name == username)
    #expect(neededHash == hash)
    let keys = SCRAMServerKeys(hash: hash, password: storedPassword, salt: bytes("saltsalt"), iterations: 16)
    step = server.credentialsFound(knownUser ? keys : nil)
    guard case .challenge(let serverFirst) = step else { return (step, client) }
    let clientFinal = try client.serverFirst(serverFirst)
    step = server.receive(bytes(tamper(text(clientFinal))))
    if let finalAck, case .challenge = step {
        step = server.receive(finalAck)
    }
    return (step, client)
}

private let exporter = ChannelBinding.tlsExporter((0..<32).map { UInt8($0) })

@Suite struct SCRAMExchangeTests {
    @Test(arguments: [SASLMechanism.scramSHA1, .scramSHA256])
    func plainExchange(mechanism: SASLMechanism) throws {
        let (step, client) = try exchange(mechanism: mechanism)
        guard case .success(let username, let data?) = step else {
            Issue.record("expected success, got \(step)")
            return
        }
        #expect(username == "mjl")
        try client.serverFinal(data)
    }

    @Test(arguments: [SASLMechanism.scramSHA1Plus, .scramSHA256Plus])
    func channelBindingTLSExporter(mechanism: SASLMechanism) throws {
        let (step, client) = try exchange(
            mechanism: mechanism,
            serverBinding: exporter,
            plusAdvertised: true,
            clientBinding: .bind(exporter)
        )
        guard case .success("mjl", let data?) = step else {
            Issue.record("expected success, got \(step)")
            return
        }
        try client.serverFinal(data)
    }

    @Test func channelBindingTLSServerEndPoint() throws {
        let binding = ChannelBinding.tlsServerEndPoint(Array(repeating: 7, count: 32))
        let (step, _) = try exchange(
            mechanism: .scramSHA256Plus,
            serverBinding: binding,
            clientBinding: .bind(binding)
        )
        guard case .success("mjl", _) = step else {
            Issue.record("expected success, got \(step)")
            return
        }
    }

    /// "y" is fine when the server did not advertise -PLUS (RFC 5802 6).
    @Test func clientSupportsButServerDidNotAdvertise() throws {
        let (step, _) = try exchange(mechanism: .scramSHA256, clientBinding: .serverNotSupporting)
        guard case .success("mjl", _) = step else {
            Issue.record("expected success, got \(step)")
            return
        }
    }

    @Test func authzidEqualToUsername() throws {
        let (step, _) = try exchange(mechanism: .scramSHA256, authzid: "mjl")
        guard case .success("mjl", _) = step else {
            Issue.record("expected success, got \(step)")
            return
        }
    }

    @Test func escapedUsername() throws {
        let (step, _) = try exchange(mechanism: .scramSHA256, username: "a,b=c")
        guard case .success("a,b=c", _) = step else {
            Issue.record("expected success, got \(step)")
            return
        }
    }

    /// RFC 4422 3.6: without additional data with success, v= is a challenge answered with nothing.
    @Test func serverFinalAsChallenge() throws {
        var server = SASLServer(mechanism: .scramSHA256, hostname: "mail.example.org", nonce: { "srv" })
        var client = SCRAMClient(hash: .sha256, username: "mjl", password: "secret", nonce: "cli")
        #expect(server.start(initialResponse: nil) == .challenge([]))
        #expect(server.receive(client.clientFirst()) == .needSCRAMKeys(username: "mjl", hash: .sha256))
        let keys = SCRAMServerKeys(hash: .sha256, password: "secret", salt: bytes("salt"), iterations: 2)
        guard case .challenge(let serverFirst) = server.credentialsFound(keys) else {
            Issue.record("expected server-first")
            return
        }
        guard case .challenge(let serverFinal) = server.receive(try client.serverFirst(serverFirst)) else {
            Issue.record("expected server-final as challenge")
            return
        }
        try client.serverFinal(serverFinal)
        #expect(!server.isFinished)
        #expect(server.receive([]) == .success(username: "mjl", additionalData: nil))
        #expect(server.isFinished)
    }

    @Test func serverFinalAckMustBeEmpty() throws {
        let (step, _) = try exchange(mechanism: .scramSHA256, successData: .asChallenge)
        guard case .challenge(let data) = step else {
            Issue.record("expected challenge, got \(step)")
            return
        }
        #expect(text(data).hasPrefix("v="))
        let (ack, _) = try exchange(mechanism: .scramSHA256, successData: .asChallenge, finalAck: bytes("x"))
        #expect(ack.failureKind == .malformed)
    }

    /// Every prefix of valid messages, and every single-byte change, gives a step and never traps.
    @Test func truncatedAndMangledMessages() throws {
        var client = SCRAMClient(hash: .sha1, username: "mjl", password: "secret", nonce: "cli")
        let clientFirst = client.clientFirst()
        var reference = SASLServer(mechanism: .scramSHA1, hostname: "h", nonce: { "srv" })
        _ = reference.start(initialResponse: clientFirst)
        let keys = SCRAMServerKeys(hash: .sha1, password: "secret", salt: bytes("salt"), iterations: 2)
        guard case .challenge(let serverFirst) = reference.credentialsFound(keys) else {
            Issue.record("expected server-first")
            return
        }
        let clientFinal = try client.serverFirst(serverFirst)
        for n in 0..<clientFirst.count {
            var server = SASLServer(mechanism: .scramSHA1, hostname: "h")
            let step = server.start(initialResponse: Array(clientFirst.prefix(n)))
            #expect(step.failureKind != nil || step == .needSCRAMKeys(username: "mjl", hash: .sha1))
        }
        var variants: [[UInt8]] = (0..<clientFinal.count).map { Array(clientFinal.prefix($0)) }
        for i in clientFinal.indices {
            for replacement in bytes(",=A\0") {
                var mangled = clientFinal
                mangled[i] = replacement
                if mangled != clientFinal { variants.append(mangled) }
            }
        }
        for variant in variants {
            var server = reference
            #expect(server.receive(variant).failureKind != nil)
        }
    }

    /// Unknown users get a salt that depends only on the name (and the secret), and fail at the proof.
    @Test func unknownUser() throws {
        let (step, _) = try exchange(mechanism: .scramSHA256, knownUser: false)
        #expect(step.failureKind == .authenticationFailed)
        #expect(step.scramError == "invalid-proof")

        func serverFirst(_ user: String) -> String {
            var server = SASLServer(
                mechanism: .scramSHA1,
                hostname: "h",
                nonce: { "n" },
                unknownUserSecret: bytes("fixed")
            )
            _ = server.start(initialResponse: bytes("n,,n=\(user),r=c"))
            guard case .challenge(let data) = server.credentialsFound(nil) else { return "" }
            return text(data)
        }
        #expect(serverFirst("nobody") == serverFirst("nobody"))
        #expect(serverFirst("nobody") != serverFirst("somebody"))
        #expect(serverFirst("nobody").hasSuffix(",i=4096"))
    }
}

/// A SCRAM failure: the kind, and the RFC 5802 7 server-error-value.
struct SCRAMFailure: Sendable, CustomTestStringConvertible {
    var name: String
    var mechanism: SASLMechanism = .scramSHA256
    var plusAdvertised = false
    var serverBinding: ChannelBinding?
    var message: String
    /// The message as bytes when it is not valid UTF-8; `message` then only describes it.
    var raw: [UInt8]? = nil
    var kind: SASLError.Kind
    var scramError: String?

    var testDescription: String { self.name }
}

@Suite struct SCRAMFailureTests {
    static let clientFirstFailures: [SCRAMFailure] = [
        SCRAMFailure(
            name: "bad gs2 flag",
            message: "x,,n=user,r=abc",
            kind: .malformed,
            scramError: "invalid-encoding"
        ),
        SCRAMFailure(
            name: "empty gs2 flag",
            message: ",,n=user,r=abc",
            kind: .malformed,
            scramError: "invalid-encoding"
        ),
        SCRAMFailure(
            name: "gs2 header cut",
            message: "n,n=user,r=abc",
            kind: .malformed,
            scramError: "invalid-encoding"
        ),
        SCRAMFailure(
            name: "bad cb name",
            message: "p=tls_exporter,,n=user,r=abc",
            kind: .malformed,
            scramError: "invalid-encoding"
        ),
        SCRAMFailure(
            name: "bad authzid",
            message: "n,x=user,n=user,r=abc",
            kind: .malformed,
            scramError: "invalid-encoding"
        ),
        SCRAMFailure(
            name: "authzid differs",
            message: "n,a=admin,n=user,r=abc",
            kind: .authenticationFailed,
            scramError: "other-error"
        ),
        SCRAMFailure(
            name: "y with PLUS advertised",
            plusAdvertised: true,
            message: "y,,n=user,r=abc",
            kind: .authenticationFailed,
            scramError: "server-does-support-channel-binding"
        ),
        SCRAMFailure(
            name: "p with non-PLUS mechanism",
            plusAdvertised: true,
            serverBinding: exporter,
            message: "p=tls-exporter,,n=user,r=abc",
            kind: .malformed,
            scramError: "other-error"
        ),
        SCRAMFailure(
            name: "n with PLUS mechanism",
            mechanism: .scramSHA256Plus,
            serverBinding: exporter,
            message: "n,,n=user,r=abc",
            kind: .malformed,
            scramError: "other-error"
        ),
        SCRAMFailure(
            name: "y with PLUS mechanism",
            mechanism: .scramSHA1Plus,
            serverBinding: exporter,
            message: "y,,n=user,r=abc",
            kind: .malformed,
            scramError: "other-error"
        ),
        SCRAMFailure(
            name: "wrong cb name",
            mechanism: .scramSHA256Plus,
            serverBinding: exporter,
            message: "p=tls-server-end-point,,n=user,r=abc",
            kind: .authenticationFailed,
            scramError: "unsupported-channel-binding-type"
        ),
        SCRAMFailure(
            name: "PLUS without binding on the connection",
            mechanism: .scramSHA256Plus,
            message: "p=tls-exporter,,n=user,r=abc",
            kind: .authenticationFailed,
            scramError: "channel-binding-not-supported"
        ),
        SCRAMFailure(
            name: "m= extension",
            message: "n,,m=ext,n=user,r=abc",
            kind: .authenticationFailed,
            scramError: "extensions-not-supported"
        ),
        SCRAMFailure(
            name: "unknown = escape",
            message: "n,,n=us=2Cer=41,r=abc",
            kind: .malformed,
            scramError: "invalid-username-encoding"
        ),
        SCRAMFailure(
            name: "cut = escape",
            message: "n,,n=user=2,r=abc",
            kind: .malformed,
            scramError: "invalid-username-encoding"
        ),
        SCRAMFailure(
            name: "empty user",
            message: "n,,n=,r=abc",
            kind: .malformed,
            scramError: "invalid-username-encoding"
        ),
        SCRAMFailure(
            name: "user not UTF-8",
            message: "n,,n=\u{FFFD},r=abc",
            raw: bytes("n,,n=") + [0xff, 0xfe] + bytes(",r=abc"),
            kind: .malformed,
            scramError: "invalid-username-encoding"
        ),
        SCRAMFailure(name: "no user", message: "n,,r=abc,n=user", kind: .malformed, scramError: "invalid-encoding"),
        SCRAMFailure(name: "empty nonce", message: "n,,n=user,r=", kind: .malformed, scramError: "invalid-encoding"),
        SCRAMFailure(
            name: "nonce not printable",
            message: "n,,n=user,r=a b",
            kind: .malformed,
            scramError: "invalid-encoding"
        ),
        SCRAMFailure(name: "no nonce", message: "n,,n=user", kind: .malformed, scramError: "invalid-encoding"),
        SCRAMFailure(
            name: "bad extension",
            message: "n,,n=user,r=abc,=x",
            kind: .malformed,
            scramError: "invalid-encoding"
        ),
    ]

    @Test(arguments: Self.clientFirstFailures)
    func clientFirst(failure: SCRAMFailure) {
        var server = SASLServer(
            mechanism: failure.mechanism,
            channelBinding: failure.serverBinding,
            plusAdvertised: failure.plusAdvertised,
            hostname: "h"
        )
        let step = server.start(initialResponse: failure.raw ?? bytes(failure.message))
        #expect(step.failureKind == failure.kind, "\(step)")
        #expect(step.scramError == failure.scramError)
        #expect(server.isFinished)
        #expect(server.receive(bytes("n,,n=user,r=abc")).failureKind == .malformed)
    }

    /// Extensions other than m= are ignored (RFC 5802 5.1).
    @Test func unknownExtensionIgnored() {
        var server = SASLServer(mechanism: .scramSHA1, hostname: "h")
        #expect(
            server.start(initialResponse: bytes("n,,n=user,r=abc,x=y")) == .needSCRAMKeys(username: "user", hash: .sha1)
        )
    }

    @Test func wrongPassword() throws {
        let (step, _) = try exchange(mechanism: .scramSHA1, password: "wrong")
        #expect(step.failureKind == .authenticationFailed)
        #expect(step.scramError == "invalid-proof")
        if case .failure(let error) = step {
            #expect(error.scramServerFinalMessage == bytes("e=invalid-proof"))
        }
    }

    @Test func wrongChannelBindingData() throws {
        let (step, _) = try exchange(
            mechanism: .scramSHA256Plus,
            serverBinding: exporter,
            clientBinding: .bind(.tlsExporter(Array(repeating: 1, count: 32)))
        )
        #expect(step.failureKind == .authenticationFailed)
        #expect(step.scramError == "channel-bindings-dont-match")
    }

    /// Changes to the client-final message, each of which must fail.
    static let finalTampering: [(String, SASLError.Kind, String?, @Sendable (String) -> String)] = [
        (
            "c= of another header", .authenticationFailed, "channel-bindings-dont-match",
            { $0.replacing("c=biws", with: "c=eSws") }
        ),
        ("c= bad base64", .malformed, "invalid-encoding", { $0.replacing("c=biws", with: "c=biw") }),
        ("nonce mismatch", .authenticationFailed, "other-error", { $0.replacing("servernonce", with: "servernoncf") }),
        ("nonce cut", .authenticationFailed, "other-error", { $0.replacing("servernonce", with: "server") }),
        ("proof bad base64", .malformed, "invalid-encoding", { $0 + "!" }),
        (
            "proof flipped", .authenticationFailed, "invalid-proof",
            { s in
                var s = s
                let proofStart = s.firstRange(of: ",p=")!.upperBound
                let c = s[proofStart]
                s.replaceSubrange(proofStart...proofStart, with: c == "A" ? "B" : "A")
                return s
            }
        ),
        (
            "proof short", .authenticationFailed, "invalid-proof",
            { s in String(s[..<s.firstRange(of: ",p=")!.upperBound]) + "AAAA" }
        ),
        ("no proof", .malformed, "invalid-encoding", { s in String(s[..<s.firstRange(of: ",p=")!.lowerBound]) }),
        ("no c=", .malformed, "invalid-encoding", { s in String(s.dropFirst("c=biws,".count)) }),
        ("bad extension", .malformed, "invalid-encoding", { $0.replacing(",p=", with: ",x,p=") }),
        ("empty", .malformed, "invalid-encoding", { _ in "" }),
    ]

    @Test(arguments: Self.finalTampering.indices)
    func clientFinal(index: Int) throws {
        let (name, kind, scramError, tamper) = Self.finalTampering[index]
        let (step, _) = try exchange(mechanism: .scramSHA256, tamper: tamper)
        #expect(step.failureKind == kind, "\(name): \(step)")
        #expect(step.scramError == scramError, "\(name)")
    }

    /// An extension in the client-final message is allowed and covered by the proof.
    @Test func clientFinalExtension() throws {
        let (step, _) = try exchange(mechanism: .scramSHA256, tamper: { $0.replacing(",p=", with: ",x=1,p=") })
        // The proof was computed without the extension, so it no longer matches.
        #expect(step.scramError == "invalid-proof")
    }

    @Test func outOfOrderCalls() {
        var server = SASLServer(mechanism: .scramSHA256, hostname: "h")
        #expect(server.credentialsFound(nil).failureKind == .malformed)
        server = SASLServer(mechanism: .scramSHA256, hostname: "h")
        _ = server.start(initialResponse: bytes("n,,n=user,r=abc"))
        #expect(server.receive(bytes("c=biws")).failureKind == .malformed)
        server = SASLServer(mechanism: .scramSHA256, hostname: "h")
        _ = server.start(initialResponse: nil)
        #expect(server.start(initialResponse: nil).failureKind == .malformed)
    }

    @Test func tooLong() {
        var server = SASLServer(mechanism: .scramSHA256, hostname: "h")
        let long = bytes("n,,n=user,r=") + Array(repeating: UInt8(ascii: "a"), count: SASLLimits.maximumMessageLength)
        #expect(server.start(initialResponse: long).failureKind == .malformed)
    }

    @Test func storedKeysUnusable() {
        var server = SASLServer(mechanism: .scramSHA256, hostname: "h")
        _ = server.start(initialResponse: bytes("n,,n=user,r=abc"))
        let keys = SCRAMServerKeys(salt: bytes("s"), iterations: 1, storedKey: [1], serverKey: [2])
        #expect(server.credentialsFound(keys).failureKind == .authenticationFailed)
    }
}

@Suite struct SCRAMClientTests {
    @Test(arguments: [
        "r=clientnonce,s=c2FsdA==,i=1",  // nonce not extended
        "r=othernonce1,s=c2FsdA==,i=1",  // another nonce
        "r=clientnonceX,s=!!,i=1",  // bad salt
        "r=clientnonceX,s=c2FsdA==,i=0",  // bad iterations
        "r=clientnonceX,s=c2FsdA==,i=99999999999",  // too many iterations
        "m=x,r=clientnonceX,s=c2FsdA==,i=1",  // mandatory extension
        "r=clientnonceX,s=c2FsdA==",  // cut
    ])
    func badServerFirst(message: String) {
        var client = SCRAMClient(hash: .sha256, username: "u", password: "p", nonce: "clientnonce")
        _ = client.clientFirst()
        #expect(throws: SASLError.self) { try client.serverFirst(bytes(message)) }
    }

    @Test func gs2Headers() {
        #expect(SCRAMClient(hash: .sha1, username: "u", password: "p").gs2Header == bytes("n,,"))
        #expect(
            SCRAMClient(hash: .sha1, username: "u", password: "p", authzid: "a,=", channelBinding: .serverNotSupporting)
                .gs2Header == bytes("y,a=a=2C=3D,")
        )
        #expect(
            SCRAMClient(hash: .sha1, username: "u", password: "p", channelBinding: .bind(exporter)).gs2Header
                == bytes("p=tls-exporter,,")
        )
    }

    @Test(arguments: [("user", "user"), ("a,b", "a=2Cb"), ("a=b", "a=3Db"), ("é=,", "é=3D=2C")])
    func saslNameEscaping(name: String, escaped: String) {
        #expect(SCRAM.escapeSASLName(name) == escaped)
        #expect(SCRAM.unescapeSASLName(ArraySlice(bytes(escaped))) == name)
    }
}
