/// SMTPClient: outgoing SMTP for the queue. One connection to one server: greeting, EHLO,
/// STARTTLS (opportunistic or required), AUTH for submission transports, then transactions
/// with per-recipient results, pipelined when the server allows it. Replies are read with
/// SMTPProtocol's reply reader; the RFC 5321 4.5.3.2 timeouts apply to each step.
///
/// The connection is thin NIO glue: the decisions (which extension the message needs, what a
/// reply means) are plain code here and in the queue.

import Logging
import MailSASL
import NIOCore
import NIOPosix
import NIOSSL
import SMTPProtocol

#if canImport(Glibc)
import Glibc
#endif

/// How TLS is used on a connection.
public enum SMTPClientTLS: Sendable, Equatable {
    /// Plain text only (a transport with NoSTARTTLS, or localserve-style tests).
    case none
    /// STARTTLS when the server offers it, its certificate not verified, as mox does for
    /// delivery without a policy (RFC 3207: encryption against passive listeners); plain
    /// text when it is not offered.
    case opportunistic
    /// STARTTLS must work; the certificate is verified against `serverName` unless `verify` is false.
    case startTLS(verify: Bool)
    /// TLS from the first byte (submissions, port 465).
    case immediate(verify: Bool)
}

/// Credentials for AUTH.
public struct SMTPClientAuth: Sendable, Equatable {
    public var username: String
    public var password: String
    /// Mechanisms that may be used, strongest tried first; empty: all but PLAIN.
    public var mechanisms: [String]

    public init(username: String, password: String, mechanisms: [String] = []) {
        self.username = username
        self.password = password
        self.mechanisms = mechanisms
    }
}

/// RFC 5321 4.5.3.2: the least a client should wait at each step.
public struct SMTPClientTimeouts: Sendable {
    public var connect: TimeAmount = .seconds(30)
    public var greeting: TimeAmount = .minutes(5)
    public var command: TimeAmount = .minutes(5)
    public var dataInitiation: TimeAmount = .minutes(2)
    public var dataBlock: TimeAmount = .minutes(3)
    public var dataTermination: TimeAmount = .minutes(10)

    public init() {}

    /// The same limit for every step (tests).
    public init(all: TimeAmount) {
        self.connect = all
        self.greeting = all
        self.command = all
        self.dataInitiation = all
        self.dataBlock = all
        self.dataTermination = all
    }
}

public struct SMTPClientOptions: Sendable {
    /// The name in EHLO: the server's host name.
    public var ehloName: String
    public var tls: SMTPClientTLS
    /// The name the TLS certificate is checked against and sent as SNI.
    public var serverName: String
    public var auth: SMTPClientAuth?
    public var timeouts: SMTPClientTimeouts
    /// A local address to connect from (Transport Direct's IPs); nil: the system's choice.
    public var localAddress: String?
    /// Connect through this SOCKS5 proxy (Transport Socks); the connection's IP and port are
    /// then the destination the proxy is asked to connect to.
    public var socksProxy: SOCKSProxy?

    public init(
        ehloName: String, tls: SMTPClientTLS, serverName: String, auth: SMTPClientAuth? = nil,
        timeouts: SMTPClientTimeouts = SMTPClientTimeouts(), localAddress: String? = nil
    ) {
        self.ehloName = ehloName
        self.tls = tls
        self.serverName = serverName
        self.auth = auth
        self.timeouts = timeouts
        self.localAddress = localAddress
    }
}

/// A SOCKS5 proxy's address.
public struct SOCKSProxy: Sendable, Equatable {
    public var ip: String
    public var port: Int

    public init(ip: String, port: Int) {
        self.ip = ip
        self.port = port
    }
}

/// A message to send: header lines written in front, then the stored file (or bytes).
public struct OutgoingMessage: Sendable {
    public enum Body: Sendable {
        case file(path: String)
        case bytes([UInt8])
    }

    public var prefix: [UInt8]
    public var body: Body
    /// prefix plus body, in octets.
    public var size: Int
    /// The message has 8-bit octets (RFC 6152 BODY=8BITMIME).
    public var has8bit: Bool
    /// Addresses or header fields need SMTPUTF8 (RFC 6531).
    public var smtputf8: Bool

    public init(prefix: [UInt8], body: Body, size: Int, has8bit: Bool, smtputf8: Bool) {
        self.prefix = prefix
        self.body = body
        self.size = size
        self.has8bit = has8bit
        self.smtputf8 = smtputf8
    }
}

/// The outcome of one transaction: a result per recipient (nil: accepted and delivered), or
/// an error that applies to the transaction as a whole.
public struct SMTPTransactionResult: Sendable {
    public var recipients: [SMTPClientError?]
    /// The server's reply to the message data (or the MAIL FROM failure).
    public var final: SMTPReply?
}

public final class SMTPClientConnection: @unchecked Sendable {
    public let channel: any Channel
    let handler: ReplyHandler
    public let options: SMTPClientOptions
    public private(set) var extensions = SMTPExtensions()
    public private(set) var tlsActive = false
    /// The remote's greeting host name (first word of the 220).
    public private(set) var remoteName = ""
    let log: Logger
    private var transactions = 0

    init(channel: any Channel, handler: ReplyHandler, options: SMTPClientOptions, log: Logger) {
        self.channel = channel
        self.handler = handler
        self.options = options
        self.log = log
    }

    /// Connects to `ip` port `port` and runs the greeting, EHLO, STARTTLS and AUTH as the
    /// options ask. The connection is closed on any error.
    public static func connect(
        ip: String, port: Int, options: SMTPClientOptions, group: any EventLoopGroup, log: Logger
    ) async throws(SMTPClientError) -> SMTPClientConnection {
        let handler = ReplyHandler()
        let channel: any Channel
        do {
            let socksRequest = try options.socksProxy.map { _ in try SOCKS5.connectRequest(ip: ip, port: port) }
            let address = try options.socksProxy.map { try SocketAddress(ipAddress: $0.ip, port: $0.port) }
                ?? SocketAddress(ipAddress: ip, port: port)
            var bootstrap = ClientBootstrap(group: group)
                .connectTimeout(options.timeouts.connect)
                .channelOption(.socketOption(.so_keepalive), value: 1)
            if let local = options.localAddress, options.socksProxy == nil {
                bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: local, port: 0))
            }
            let tls = options.tls
            let sslContext = try Self.sslContext(tls)
            let serverName = options.serverName
            let socksDone = group.next().makePromise(of: Void.self)
            let connecting = bootstrap.channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let socksRequest {
                        try channel.pipeline.syncOperations.addHandler(SOCKS5Handler(request: socksRequest, promise: socksDone))
                    } else {
                        socksDone.succeed(())
                    }
                    if case .immediate = tls, let sslContext {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: sslContext, serverHostname: Self.sniName(serverName))
                        )
                    }
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }.connect(to: address)
            do {
                channel = try await connecting.get()
            } catch {
                socksDone.fail(error)
                throw error
            }
            // The proxy's exchange counts toward the connect timeout.
            let timer = channel.eventLoop.scheduleTask(in: options.timeouts.connect) {
                socksDone.fail(SOCKS5.Failure(message: "timeout waiting for socks proxy"))
                channel.close(promise: nil)
            }
            defer { timer.cancel() }
            do {
                try await socksDone.futureResult.get()
            } catch let error as SOCKS5.Failure {
                channel.close(promise: nil)
                throw SMTPClientError(.io(error.message), stage: .dial)
            }
        } catch let error as SMTPClientError {
            throw error
        } catch {
            throw SMTPClientError(.io("\(error)"), stage: .dial)
        }
        let connection = SMTPClientConnection(channel: channel, handler: handler, options: options, log: log)
        do {
            try await connection.start()
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    static func sslContext(_ tls: SMTPClientTLS) throws -> NIOSSLContext? {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch tls {
        case .none: return nil
        case .opportunistic: configuration.certificateVerification = .none
        case .startTLS(let verify), .immediate(let verify):
            configuration.certificateVerification = verify ? .fullVerification : .none
        }
        return try NIOSSLContext(configuration: configuration)
    }

    /// SNI takes a host name, never an IP address (RFC 6066 3).
    static func sniName(_ name: String) -> String? {
        if name.isEmpty || name.contains(":") || name.allSatisfy({ $0.isNumber || $0 == "." }) { return nil }
        return name.hasSuffix(".") ? String(name.dropLast()) : name
    }

    private func start() async throws(SMTPClientError) {
        if case .immediate = self.options.tls {
            try await self.waitHandshake()
            self.tlsActive = true
        }
        // RFC 5321 3.1: a 554 greeting (or any non-220) means no service here.
        let greeting = try await self.read(self.options.timeouts.greeting, stage: .greeting)
        guard greeting.code == 220 else { throw .reply(greeting, stage: .greeting) }
        self.remoteName = String(greeting.lines[0].split(separator: " ").first ?? "")
        try await self.hello()
        switch self.options.tls {
        case .opportunistic where self.extensions.startTLS, .startTLS:
            guard self.extensions.startTLS else {
                throw SMTPClientError(.tlsRequired("remote server does not offer STARTTLS"), stage: .tls)
            }
            try await self.startTLS()
            try await self.hello()
        default: break
        }
        if let auth = self.options.auth {
            try await self.authenticate(auth)
        }
    }

    private func hello() async throws(SMTPClientError) {
        let reply = try await self.command("EHLO \(self.options.ehloName)", timeout: self.options.timeouts.command, stage: .ehlo)
        if reply.code == 250 {
            self.extensions = SMTPExtensions(ehloReply: reply)
            return
        }
        // RFC 5321 3.2: fall back to HELO when EHLO is not understood.
        guard reply.code == 500 || reply.code == 502 else { throw .reply(reply, stage: .ehlo) }
        let helo = try await self.command("HELO \(self.options.ehloName)", timeout: self.options.timeouts.command, stage: .ehlo)
        guard helo.code == 250 else { throw .reply(helo, stage: .ehlo) }
        self.extensions = SMTPExtensions(ehloReply: SMTPReply(code: 250, enhanced: nil, lines: [""]))
    }

    /// RFC 3207 4: STARTTLS, then the handshake; the server's extensions are read again.
    private func startTLS() async throws(SMTPClientError) {
        let reply = try await self.command("STARTTLS", timeout: self.options.timeouts.command, stage: .tls)
        guard reply.code == 220 else { throw .reply(reply, stage: .tls) }
        // RFC 3207 5 (and the 2011 plaintext injection attacks): nothing may follow the 220
        // before the handshake; bytes that did would be taken as coming over TLS.
        let pending = await self.onLoop { $0.pendingBytes + $0.queuedReplies }
        guard pending == 0 else {
            throw SMTPClientError(.protocolError("data after STARTTLS reply"), stage: .tls)
        }
        let tls = self.options.tls == .opportunistic ? SMTPClientTLS.opportunistic : self.options.tls
        do {
            guard let context = try Self.sslContext(tls) else { return }
            let handler = try NIOSSLClientHandler(context: context, serverHostname: Self.sniName(self.options.serverName))
            try await self.channel.pipeline.addHandler(handler, position: .first).get()
        } catch {
            throw SMTPClientError(.io("tls: \(error)"), stage: .tls)
        }
        try await self.waitHandshake()
        self.tlsActive = true
    }

    private func waitHandshake() async throws(SMTPClientError) {
        let handler = self.handler
        let loop = self.channel.eventLoop
        let timeout = self.options.timeouts.command
        let channel = self.channel
        do {
            let timer = loop.scheduleTask(in: timeout) { channel.close(promise: nil) }
            defer { timer.cancel() }
            try await loop.flatSubmit { handler.handshake(on: loop) }.get()
        } catch let error as SMTPClientError {
            throw error
        } catch {
            throw SMTPClientError(.io("\(error)"), stage: .tls)
        }
    }

    /// RFC 4954: the strongest allowed mechanism the server offers.
    private func authenticate(_ auth: SMTPClientAuth) async throws(SMTPClientError) {
        let allowed = auth.mechanisms.isEmpty
            ? ["SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5"] : auth.mechanisms.map { $0.uppercased() }
        let preference = ["SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN"]
        let offered = Set(self.extensions.authMechanisms)
        guard let mechanism = preference.first(where: { allowed.contains($0) && offered.contains($0) }) else {
            throw SMTPClientError(.missingExtension("AUTH with an allowed mechanism"), stage: .auth)
        }
        let timeout = self.options.timeouts.command
        var reply: SMTPReply
        switch mechanism {
        case "PLAIN":
            let response = SASLBase64.encode(SASLClient.plain(username: auth.username, password: auth.password))
            reply = try await self.command("AUTH PLAIN \(response)", timeout: timeout, stage: .auth, secret: true)
        case "CRAM-MD5":
            reply = try await self.command("AUTH CRAM-MD5", timeout: timeout, stage: .auth)
            guard reply.code == 334, let challenge = SASLBase64.decode(reply.text) else { throw .reply(reply, stage: .auth) }
            let response = SASLClient.cramMD5Response(username: auth.username, password: auth.password, challenge: challenge)
            reply = try await self.command(SASLBase64.encode(response), timeout: timeout, stage: .auth, secret: true)
        default:
            var scram = SCRAMClient(hash: mechanism == "SCRAM-SHA-256" ? .sha256 : .sha1, username: auth.username, password: auth.password)
            reply = try await self.command(
                "AUTH \(mechanism) \(SASLBase64.encode(scram.clientFirst()))", timeout: timeout, stage: .auth
            )
            guard reply.code == 334, let first = SASLBase64.decode(reply.text) else { throw .reply(reply, stage: .auth) }
            let final: [UInt8]
            do {
                final = try scram.serverFirst(first)
            } catch {
                _ = try? await self.command("*", timeout: timeout, stage: .auth)
                throw SMTPClientError(.protocolError("scram: \(error)"), stage: .auth)
            }
            reply = try await self.command(SASLBase64.encode(final), timeout: timeout, stage: .auth, secret: true)
            guard reply.code == 334, let last = SASLBase64.decode(reply.text) else { break }
            do {
                try scram.serverFinal(last)
            } catch {
                _ = try? await self.command("*", timeout: timeout, stage: .auth)
                throw SMTPClientError(.protocolError("scram: server signature: \(error)"), stage: .auth)
            }
            reply = try await self.command("", timeout: timeout, stage: .auth)
        }
        guard reply.code == 235 else { throw .reply(reply, stage: .auth) }
    }

    // MARK: - Transactions

    /// One transaction: MAIL FROM, a RCPT TO per recipient, then the message to those accepted.
    /// Throws for failures of the whole transaction (MAIL FROM refused, the connection lost,
    /// a missing extension); per-recipient refusals are in the result.
    public func deliver(
        mailFrom: String, recipients: [String], message: OutgoingMessage, requireTLS: Bool = false
    ) async throws(SMTPClientError) -> SMTPTransactionResult {
        let ext = self.extensions
        // RFC 6531 3.4: without SMTPUTF8 at the server, a message that needs it cannot go.
        if message.smtputf8 && !ext.smtputf8 {
            throw SMTPClientError(.missingExtension("SMTPUTF8"), stage: .mail)
        }
        // RFC 8689 4.1: REQUIRETLS only over TLS, and only to servers that announce it.
        if requireTLS && !(self.tlsActive && ext.requireTLS) {
            throw SMTPClientError(.missingExtension("REQUIRETLS"), stage: .mail)
        }
        // RFC 1870 6.1: no point sending what the server says it will refuse.
        if let limit = ext.size, message.size > limit {
            throw SMTPClientError(
                .reply, stage: .mail,
                reply: SMTPReply(554, .messageTooBig, "message of \(message.size) bytes exceeds remote limit \(limit)")
            )
        }
        if self.transactions > 0 {
            let reset = try await self.command("RSET", timeout: self.options.timeouts.command, stage: .mail)
            guard reset.code == 250 else { throw .reply(reset, stage: .mail) }
        }
        self.transactions += 1
        var mail = "MAIL FROM:<\(mailFrom)>"
        // RFC 6152 2: 8-bit data announced. Without 8BITMIME the data goes as is: mox does the
        // same, most servers accept it (RFC 6152 3 leaves a conversion to the sender).
        if message.has8bit && ext.eightBitMIME { mail += " BODY=8BITMIME" }
        if message.smtputf8 { mail += " SMTPUTF8" }
        if ext.size != nil { mail += " SIZE=\(message.size)" }
        if requireTLS { mail += " REQUIRETLS" }
        let timeouts = self.options.timeouts
        var replies: [SMTPReply] = []
        // RFC 2920 3.1: with PIPELINING, MAIL, the RCPTs and DATA go in one write (DATA may end a
        // group), and their replies are read in order.
        var dataReply: SMTPReply?
        if ext.pipelining {
            var batch = mail + "\r\n"
            for recipient in recipients { batch += "RCPT TO:<\(recipient)>\r\n" }
            if !ext.chunking { batch += "DATA\r\n" }
            try await self.write(Array(batch.utf8), stage: .mail, trace: batch)
            for i in 0...recipients.count {
                replies.append(try await self.read(timeouts.command, stage: i == 0 ? .mail : .rcpt))
            }
            if !ext.chunking {
                dataReply = try await self.read(timeouts.dataInitiation, stage: .data)
            }
        } else {
            let first = try await self.command(mail, timeout: timeouts.command, stage: .mail)
            replies.append(first)
            if first.code == 250 {
                for recipient in recipients {
                    replies.append(try await self.command("RCPT TO:<\(recipient)>", timeout: timeouts.command, stage: .rcpt))
                }
            }
        }
        let accepted = replies[0].code == 250 && replies.dropFirst().contains(where: \.isPositive)
        if let dataReply, dataReply.code == 354, !accepted {
            // A server that starts the data without a recipient (RFC 2920 3.1 says it should
            // refuse DATA then): an empty message ends it, and is refused for lack of recipients.
            try await self.write(Array(".\r\n".utf8), stage: .data, trace: ".")
            _ = try await self.read(timeouts.dataTermination, stage: .data)
        }
        guard replies[0].code == 250 else { throw .reply(replies[0], stage: .mail) }
        var results: [SMTPClientError?] = recipients.indices.map { i in
            replies[i + 1].isPositive ? nil : SMTPClientError.reply(replies[i + 1], stage: .rcpt)
        }
        guard accepted else {
            return SMTPTransactionResult(recipients: results, final: nil)
        }
        let final: SMTPReply
        if ext.chunking {
            final = try await self.sendBDAT(message)
        } else {
            let start: SMTPReply
            if let dataReply {
                start = dataReply
            } else {
                start = try await self.command("DATA", timeout: timeouts.dataInitiation, stage: .data)
            }
            guard start.code == 354 else { throw .reply(start, stage: .data) }
            try await self.sendData(message)
            final = try await self.read(timeouts.dataTermination, stage: .data)
        }
        if !final.isPositive {
            let error = SMTPClientError.reply(final, stage: .data)
            for i in results.indices where results[i] == nil { results[i] = error }
        }
        return SMTPTransactionResult(recipients: results, final: final)
    }

    /// The message with dot-stuffing (RFC 5321 4.5.2) and the final ".", in blocks that each
    /// wait for the socket (memory stays bounded whatever the size).
    private func sendData(_ message: OutgoingMessage) async throws(SMTPClientError) {
        var stuffer = DotStuffer()
        var out: [UInt8] = []
        try await self.forEachBlock(message) { (block: ArraySlice<UInt8>) async throws(SMTPClientError) in
            out.removeAll(keepingCapacity: true)
            stuffer.stuff(block, into: &out)
            try await self.write(out, stage: .data, trace: nil)
        }
        out.removeAll()
        stuffer.finish(into: &out)
        try await self.write(out, stage: .data, trace: nil)
    }

    /// RFC 3030 2: BDAT chunks, no stuffing; the last one marked LAST. Each chunk's reply is
    /// read before the next (no pipelining of chunks: a refusal stops the data).
    private func sendBDAT(_ message: OutgoingMessage) async throws(SMTPClientError) -> SMTPReply {
        var pending: [UInt8] = []
        let chunk = 1 << 20
        let timeouts = self.options.timeouts
        var sent = 0
        try await self.forEachBlock(message) { (block: ArraySlice<UInt8>) async throws(SMTPClientError) in
            pending.append(contentsOf: block)
            while pending.count >= chunk && sent + pending.count < message.size {
                let piece = Array(pending[0..<chunk])
                pending.removeSubrange(0..<chunk)
                try await self.write(Array("BDAT \(piece.count)\r\n".utf8) + piece, stage: .data, trace: "BDAT \(piece.count)")
                sent += piece.count
                let reply = try await self.read(timeouts.dataBlock, stage: .data)
                guard reply.code == 250 else { throw .reply(reply, stage: .data) }
            }
        }
        try await self.write(Array("BDAT \(pending.count) LAST\r\n".utf8) + pending, stage: .data, trace: "BDAT \(pending.count) LAST")
        return try await self.read(timeouts.dataTermination, stage: .data)
    }

    /// The message's bytes, prefix first, in blocks of up to 64 KiB.
    private func forEachBlock(
        _ message: OutgoingMessage, _ body: (ArraySlice<UInt8>) async throws(SMTPClientError) -> Void
    ) async throws(SMTPClientError) {
        if !message.prefix.isEmpty { try await body(message.prefix[...]) }
        switch message.body {
        case .bytes(let bytes):
            var i = 0
            while i < bytes.count {
                let end = min(bytes.count, i + 65536)
                try await body(bytes[i..<end])
                i = end
            }
        case .file(let path):
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                throw SMTPClientError(.io("open \(path): \(String(cString: strerror(errno)))"), stage: .data)
            }
            defer { Glibc.close(fd) }
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SMTPClientError(.io("read \(path): \(String(cString: strerror(errno)))"), stage: .data)
                }
                if n == 0 { break }
                try await body(buffer[0..<n])
            }
        }
    }

    /// QUIT, waiting briefly for the reply, then close.
    public func quit() async {
        _ = try? await self.command("QUIT", timeout: .seconds(5), stage: .quit)
        self.close()
    }

    public func close() {
        self.channel.close(promise: nil)
    }

    public var isActive: Bool { self.channel.isActive }

    // MARK: - I/O

    func command(_ line: String, timeout: TimeAmount, stage: SMTPClientError.Stage, secret: Bool = false) async throws(SMTPClientError) -> SMTPReply {
        try await self.write(Array((line + "\r\n").utf8), stage: stage, trace: secret ? "<secret>" : line)
        return try await self.read(timeout, stage: stage)
    }

    func write(_ bytes: [UInt8], stage: SMTPClientError.Stage, trace: String?) async throws(SMTPClientError) {
        if let trace { self.log.trace("LC: \(trace.trimmingSuffix())") }
        do {
            try await self.channel.writeAndFlush(self.channel.allocator.buffer(bytes: bytes))
        } catch {
            throw SMTPClientError(.io("write: \(error)"), stage: stage)
        }
    }

    func read(_ timeout: TimeAmount, stage: SMTPClientError.Stage) async throws(SMTPClientError) -> SMTPReply {
        let handler = self.handler
        let loop = self.channel.eventLoop
        let channel = self.channel
        do {
            let reply = try await loop.flatSubmit { handler.next(timeout: timeout, on: loop, channel: channel) }.get()
            self.log.trace("RC: \(reply.code) \(reply.text)")
            return reply
        } catch var error as SMTPClientError {
            error.stage = stage
            throw error
        } catch {
            throw SMTPClientError(.io("\(error)"), stage: stage)
        }
    }

    private func onLoop<T: Sendable>(_ body: @escaping @Sendable (ReplyHandler) -> T) async -> T {
        let handler = self.handler
        return (try? await self.channel.eventLoop.submit { body(handler) }.get()) ?? body(handler)
    }
}

extension String {
    fileprivate func trimmingSuffix() -> String {
        var s = Substring(self)
        while let last = s.last, last == "\n" || last == "\r" { s = s.dropLast() }
        return String(s)
    }
}

/// RFC 5321 4.5.2: a line that starts with "." gets one more; the data ends with CRLF "." CRLF,
/// with a CRLF added when the message does not end with one.
struct DotStuffer {
    /// At the start of a line (true before the first byte).
    var lineStart = true
    var lastCR = false

    mutating func stuff(_ bytes: ArraySlice<UInt8>, into out: inout [UInt8]) {
        out.reserveCapacity(out.count + bytes.count + 16)
        var runStart = bytes.startIndex
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let b = bytes[i]
            if self.lineStart && b == UInt8(ascii: ".") {
                out.append(contentsOf: bytes[runStart..<i])
                out.append(UInt8(ascii: "."))
                runStart = i
            }
            self.lineStart = b == UInt8(ascii: "\n") && self.lastCR
            self.lastCR = b == UInt8(ascii: "\r")
            i += 1
        }
        out.append(contentsOf: bytes[runStart..<bytes.endIndex])
    }

    func finish(into out: inout [UInt8]) {
        if !self.lineStart { out.append(contentsOf: [13, 10]) }
        out.append(contentsOf: Array(".\r\n".utf8))
    }
}
