extension SASLServer {
    /// Continues a SCRAM exchange after `.needSCRAMKeys` with the user's keys, or nil for an unknown
    /// user: then fake keys with a salt derived from the user name stand in, and the proof fails at
    /// the end, so the exchange looks the same as for a wrong password.
    public mutating func credentialsFound(_ keys: SCRAMServerKeys?) -> SASLStep {
        guard case .scramAwaitingKeys(let first, let expectedChannelBinding) = self.state,
            let hash = self.mechanism.scramHash
        else {
            return self.fail(.malformed("no SCRAM key lookup pending"))
        }
        let serverKeys: SCRAMServerKeys
        if let keys {
            guard keys.iterations >= 1, !keys.salt.isEmpty, keys.storedKey.count == hash.length,
                keys.serverKey.count == hash.length
            else {
                return self.fail(.failed("stored SCRAM keys for \(first.username) are unusable", scram: "other-error"))
            }
            serverKeys = keys
        } else {
            serverKeys = self.unknownUserKeys(username: first.username, hash: hash)
        }

        // RFC 5802 5.1: the server appends its own nonce to the client's.
        let nonce = first.clientNonce + Array(self.nonce().utf8)
        // RFC 5802 7: server-first-message = [reserved-mext ","] nonce "," salt "," iteration-count ["," extensions]
        let serverFirst = Array(
            "r=\(String(decoding: nonce, as: UTF8.self)),s=\(SASLBase64.encode(serverKeys.salt)),i=\(serverKeys.iterations)"
                .utf8
        )
        self.state = .scramAwaitingClientFinal(
            SCRAMExchange(
                username: first.username,
                hash: hash,
                keys: serverKeys,
                unknownUser: keys == nil,
                nonce: nonce,
                expectedChannelBinding: expectedChannelBinding,
                authMessagePrefix: first.bare + Array(",".utf8) + serverFirst
            )
        )
        return .challenge(serverFirst)
    }

    /// Keys for a user that does not exist: the salt is an HMAC of the name, so repeated attempts see
    /// the same salt, as for a real account; the stored key matches no proof.
    private func unknownUserKeys(username: String, hash: SCRAMHash) -> SCRAMServerKeys {
        let label = Array("scram-unknown-user\u{0}\(hash.rawValue)\u{0}".utf8) + Array(username.utf8)
        let salt = Array(SCRAMHash.sha256.hmac(key: self.unknownUserSecret, Array("salt".utf8) + label).prefix(16))
        let storedKey = Array(
            SCRAMHash.sha256.hmac(key: self.unknownUserSecret, Array("key".utf8) + label).prefix(hash.length)
        )
        return SCRAMServerKeys(
            salt: salt,
            iterations: max(1, self.unknownUserIterations),
            storedKey: storedKey,
            serverKey: storedKey
        )
    }

    /// RFC 5802 7:
    /// ```
    /// client-first-message = gs2-header client-first-message-bare
    /// gs2-header = gs2-cbind-flag "," [ authzid ] ","
    /// gs2-cbind-flag = ("p=" cb-name) / "n" / "y"
    /// authzid = "a=" saslname
    /// client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions]
    /// username = "n=" saslname
    /// nonce = "r=" c-nonce [s-nonce]
    /// ```
    mutating func scramClientFirst(_ message: [UInt8]) -> SASLStep {
        let first: SCRAMClientFirst
        do {
            first = try Self.parseClientFirst(message)
        } catch {
            return self.fail(error)
        }
        // RFC 5802 5.1: an authzid other than the user name would mean acting as another user: unsupported.
        if let authzid = first.authzid, authzid != first.username {
            return self.fail(
                .failed("authorization identity \(authzid) differs from \(first.username)", scram: "other-error")
            )
        }

        // RFC 5802 6: the channel-binding flag must fit the mechanism and what the server offered.
        var expected = first.gs2Header
        switch first.flag {
        case .notSupported:
            guard !self.mechanism.isPlus else {
                return self.fail(.malformed("-PLUS mechanism without channel binding (\"n\")", scram: "other-error"))
            }
        case .serverNotSupporting:
            guard !self.mechanism.isPlus else {
                return self.fail(.malformed("-PLUS mechanism without channel binding (\"y\")", scram: "other-error"))
            }
            // RFC 5802 6: "y" while the server advertised -PLUS means someone removed it: a downgrade.
            guard !self.plusAdvertised else {
                return self.fail(
                    .failed(
                        "client thinks the server lacks channel binding, but -PLUS was advertised",
                        scram: "server-does-support-channel-binding"
                    )
                )
            }
        case .required(let name):
            // RFC 5801 5: "p" goes with the -PLUS mechanisms only.
            guard self.mechanism.isPlus else {
                return self.fail(
                    .malformed("channel binding requested with non-PLUS mechanism", scram: "other-error")
                )
            }
            guard let binding = self.channelBinding else {
                return self.fail(
                    .failed("no channel binding on this connection", scram: "channel-binding-not-supported")
                )
            }
            // RFC 5802 6: the server MUST fail for a channel-binding type it does not support.
            guard name == binding.type else {
                return self.fail(
                    .failed(
                        "channel binding type \(name) not supported, have \(binding.type)",
                        scram: "unsupported-channel-binding-type"
                    )
                )
            }
            // RFC 5802 7: cbind-input = gs2-header [ cbind-data ] ; cbind-data present only with "p".
            expected += binding.data
        }
        self.state = .scramAwaitingKeys(first, expectedChannelBinding: expected)
        return .needSCRAMKeys(username: first.username, hash: self.mechanism.scramHash ?? .sha256)
    }

    static func parseClientFirst(_ message: [UInt8]) throws(SASLError) -> SCRAMClientFirst {
        let parts = message.splitOnComma()
        guard parts.count >= 4 else {
            throw .malformed("SCRAM client-first message too short", scram: "invalid-encoding")
        }

        // RFC 5802 7: gs2-cbind-flag = ("p=" cb-name) / "n" / "y" ; cb-name = 1*(ALPHA / DIGIT / "." / "-")
        let flag: SCRAMClientFirst.Flag
        let flagPart = parts[0]
        if flagPart.elementsEqual("n".utf8) {
            flag = .notSupported
        } else if flagPart.elementsEqual("y".utf8) {
            flag = .serverNotSupporting
        } else if flagPart.hasPrefix("p=") {
            let name = flagPart.attributeValue
            let valid = name.allSatisfy { c in
                (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39)
                    || c == UInt8(ascii: ".") || c == UInt8(ascii: "-")
            }
            guard !name.isEmpty, valid else {
                throw .malformed("invalid channel binding name", scram: "invalid-encoding")
            }
            flag = .required(String(decoding: name, as: UTF8.self))
        } else {
            throw .malformed("invalid gs2-cbind-flag", scram: "invalid-encoding")
        }

        // RFC 5802 7: authzid = "a=" saslname, or empty.
        var authzid: String?
        let authzPart = parts[1]
        if !authzPart.isEmpty {
            guard authzPart.hasPrefix("a=") else {
                throw .malformed("invalid gs2 authzid", scram: "invalid-encoding")
            }
            guard let name = SCRAM.unescapeSASLName(authzPart.attributeValue) else {
                throw .malformed("invalid authzid encoding", scram: "invalid-username-encoding")
            }
            authzid = name
        }
        let gs2Header = Array(message[..<(authzPart.endIndex + 1)])
        let bare = Array(message[parts[2].startIndex...])

        // RFC 5802 5.1: "m" is reserved for mandatory extensions; its presence MUST fail authentication.
        if parts[2].hasPrefix("m=") {
            throw .failed("mandatory extension (m=) not supported", scram: "extensions-not-supported")
        }
        guard parts[2].hasPrefix("n=") else {
            throw .malformed("SCRAM client-first message without user name", scram: "invalid-encoding")
        }
        // RFC 5802 5.1: "=2C" and "=3D" are the only escapes; anything else fails.
        guard let username = SCRAM.unescapeSASLName(parts[2].attributeValue) else {
            throw .malformed("invalid user name encoding", scram: "invalid-username-encoding")
        }
        // RFC 5802 7: c-nonce = printable (1 or more).
        let noncePart = parts[3]
        guard noncePart.hasPrefix("r="), noncePart.count > 2, noncePart.attributeValue.allSatisfy(SCRAM.isPrintable)
        else {
            throw .malformed("invalid client nonce", scram: "invalid-encoding")
        }
        // RFC 5802 7: ["," extensions] ; unknown extensions are ignored, but must be attr-val.
        for part in parts[4...] where !SCRAM.isAttributeValue(part) {
            throw .malformed("invalid extension in client-first message", scram: "invalid-encoding")
        }
        return SCRAMClientFirst(
            gs2Header: gs2Header,
            flag: flag,
            authzid: authzid,
            bare: bare,
            username: username,
            clientNonce: Array(noncePart.attributeValue)
        )
    }

    /// RFC 5802 7:
    /// ```
    /// client-final-message-without-proof = channel-binding "," nonce ["," extensions]
    /// client-final-message = client-final-message-without-proof "," proof
    /// channel-binding = "c=" base64
    /// proof = "p=" base64
    /// ```
    mutating func scramClientFinal(_ message: [UInt8], _ exchange: SCRAMExchange) -> SASLStep {
        let parts = message.splitOnComma()
        guard parts.count >= 3, parts[0].hasPrefix("c="), parts[1].hasPrefix("r="),
            let proofPart = parts.last, proofPart.hasPrefix("p=")
        else {
            return self.fail(.malformed("invalid SCRAM client-final message", scram: "invalid-encoding"))
        }
        for part in parts[2..<(parts.count - 1)] where !SCRAM.isAttributeValue(part) {
            return self.fail(.malformed("invalid extension in client-final message", scram: "invalid-encoding"))
        }
        guard let channelBinding = SASLBase64.decode(parts[0].attributeValue),
            let proof = SASLBase64.decode(proofPart.attributeValue)
        else {
            return self.fail(.malformed("invalid base64 in client-final message", scram: "invalid-encoding"))
        }
        // RFC 5802 5.1: the nonce must be exactly the one the server sent (client's + server's).
        guard parts[1].attributeValue.elementsEqual(exchange.nonce) else {
            return self.fail(.failed("SCRAM nonce mismatch", scram: "other-error"))
        }
        // RFC 5802 5.1 and 6: c= must carry the gs2 header and, with "p", this connection's binding data.
        guard constantTimeEqual(channelBinding, exchange.expectedChannelBinding) else {
            return self.fail(.failed("channel binding mismatch", scram: "channel-bindings-dont-match"))
        }

        // RFC 5802 3:
        // AuthMessage     := client-first-message-bare + "," + server-first-message + "," +
        //                    client-final-message-without-proof
        // ClientSignature := HMAC(StoredKey, AuthMessage)
        // ClientKey       := ClientProof XOR ClientSignature, and the server checks H(ClientKey) == StoredKey
        // ServerSignature := HMAC(ServerKey, AuthMessage)
        let withoutProof = message[..<(proofPart.startIndex - 1)]
        let authMessage = exchange.authMessagePrefix + Array(",".utf8) + Array(withoutProof)
        let hash = exchange.hash
        let keys = exchange.keys
        guard proof.count == hash.length else {
            return self.fail(.failed("SCRAM proof has the wrong length", scram: "invalid-proof"))
        }
        let clientSignature = hash.hmac(key: keys.storedKey, authMessage)
        let clientKey = zip(proof, clientSignature).map { $0 ^ $1 }
        let valid = constantTimeEqual(hash.hash(clientKey), keys.storedKey)
        guard valid, !exchange.unknownUser else {
            // The reason says which, for logs; the client sees "invalid-proof" either way.
            let reason = exchange.unknownUser ? "unknown user \(exchange.username)" : "invalid proof"
            return self.fail(.failed(reason, scram: "invalid-proof"))
        }
        let serverSignature = hash.hmac(key: keys.serverKey, authMessage)
        // RFC 5802 7: server-final-message = (server-error / verifier) ; verifier = "v=" base64
        let serverFinal = Array("v=".utf8) + SASLBase64.encodeBytes(serverSignature)
        switch self.successData {
        case .withSuccess:
            self.state = .done
            return .success(username: exchange.username, additionalData: serverFinal)
        case .asChallenge:
            self.state = .scramAwaitingFinalAck(username: exchange.username)
            return .challenge(serverFinal)
        }
    }
}
