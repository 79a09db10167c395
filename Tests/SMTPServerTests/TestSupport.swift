import Foundation
import MailAddress
import MailNetwork
import MailSASL
import MailSpool
import NIOCore
import NIOPosix
import SMTPProtocol
import SMTPServer
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A backend in memory: one user (mox@localhost / secret), local domain "localhost", messages kept
/// in a list; recipients whose localpart is "fail" fail at delivery.
final class MemoryBackend: SMTPBackend {
    struct Stored: Sendable {
        var envelope: SMTPEnvelope
        var message: [UInt8]
    }
    let stored = Mutex<[Stored]>([])
    let keys = SCRAMServerKeys(hash: .sha256, password: "secret", salt: Array("saltsaltsalt".utf8), iterations: 4096)

    var messages: [Stored] { self.stored.withLock { $0 } }

    func verifyPassword(username: String, password: String) async -> SMTPAuthenticatedUser? {
        username == "mox@localhost" && password == "secret"
            ? SMTPAuthenticatedUser(account: "mox", username: username) : nil
    }

    func scramKeys(username: String, hash: SCRAMHash) async -> (SMTPAuthenticatedUser, SCRAMServerKeys)? {
        guard username == "mox@localhost", hash == .sha256 else { return nil }
        return (SMTPAuthenticatedUser(account: "mox", username: username), self.keys)
    }

    func verifyCRAMMD5(username: String, challenge: [UInt8], digest: [UInt8]) async -> SMTPAuthenticatedUser? {
        nil
    }

    func checkMailFrom(_ client: SMTPClientInfo, _ path: ReversePath, _ parameters: MailParameters) async -> SMTPReply?
    {
        if client.listener.isSubmission, path.mailbox?.formatted != "mox@localhost" {
            return SMTPReply(550, .deliveryNotAuthorized, "must match authenticated user")
        }
        return nil
    }

    func checkRecipient(
        _ client: SMTPClientInfo,
        _ path: ForwardPath,
        _ parameters: RcptParameters,
        mailFrom: ReversePath
    ) async -> SMTPRecipientDecision {
        guard let mailbox = path.mailbox else { return .accept(route: "postmaster") }
        guard mailbox.host.domain?.ascii == "localhost" else {
            return .reject(SMTPReply(550, .badDestinationMailbox, "not accepting email for domain"))
        }
        return .accept(route: mailbox.localpart.value)
    }

    /// Where spool files go: one directory per backend, so a test can check that none is left.
    let spoolDirectory = NSTemporaryDirectory() + "smtp-spool-" + String(UInt64.random(in: 0...UInt64.max))

    func makeSpool() throws(SpoolError) -> MessageSpool {
        try MessageSpool(directory: self.spoolDirectory)
    }

    /// The files in the spool directory.
    var spoolFiles: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: self.spoolDirectory)) ?? []
    }

    func checkMessage(_ client: SMTPClientInfo, _ envelope: SMTPEnvelope, message: SpooledMessage) async -> SMTPReply? {
        nil
    }

    func deliver(
        _ client: SMTPClientInfo,
        _ envelope: SMTPEnvelope,
        message spooled: SpooledMessage,
        received: SMTPReceivedTrace
    ) async -> [SMTPDeliveryResult] {
        let first = envelope.recipients.count == 1 ? envelope.recipients[0].path : nil
        let message = Array(received.header(for: first).utf8) + ((try? spooled.readAll()) ?? [])
        var results: [SMTPDeliveryResult] = []
        for recipient in envelope.recipients {
            if recipient.route as? String == "fail" {
                results.append(SMTPReply(451, EnhancedCode(class: 4, subject: 3, detail: 0), "storage failed"))
            } else {
                results.append(nil)
            }
        }
        self.stored.withLock { $0.append(Stored(envelope: envelope, message: message)) }
        return results
    }
}

/// A listener on 127.0.0.1 with a free port, stopped by `stop()`.
struct TestServer {
    let listener: SMTPListener
    let backend: MemoryBackend
    let port: Int

    static func start(
        _ kind: SMTPListenerKind = .smtp,
        configure: (inout SMTPServerOptions) -> Void = { _ in }
    ) async throws -> TestServer {
        var options = SMTPServerOptions(hostname: "mail.test", listener: kind, tls: nil, clientLimits: .unlimited())
        options.requireTLSForSubmission = false
        configure(&options)
        let backend = MemoryBackend()
        let listener = try await SMTPListener.start(
            host: "127.0.0.1",
            port: 0,
            options: options,
            backend: backend,
            group: MultiThreadedEventLoopGroup.singleton
        )
        return TestServer(listener: listener, backend: backend, port: listener.localAddress?.port ?? 0)
    }

    func stop() async {
        await self.listener.stop(grace: .seconds(1))
    }
}

struct Reply: Equatable, CustomStringConvertible {
    var code: Int
    var lines: [String]

    var text: String { self.lines.joined(separator: "\n") }
    var description: String { "\(self.code) \(self.text)" }
}

/// A blocking line-oriented client on its own dispatch thread, so it never holds one of the
/// threads the server's tasks run on.
final class TestClient: @unchecked Sendable {
    let fd: Int32
    var buffer: [UInt8] = []

    init(port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            Glibc.close(fd)
            throw ClientError(message: "connect: \(String(cString: strerror(errno)))")
        }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        self.fd = fd
    }

    struct ClientError: Error, CustomStringConvertible {
        var message: String
        var description: String { self.message }
    }

    func send(_ text: String) {
        self.send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(self.fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Reads one reply, all its lines; nil when the connection closed.
    func reply() -> Reply? {
        var lines: [String] = []
        while let line = self.line() {
            guard line.count >= 3, let code = Int(line.prefix(3)) else { return Reply(code: 0, lines: [line]) }
            lines.append(String(line.dropFirst(4)))
            if line.count == 3 || line[line.index(line.startIndex, offsetBy: 3)] == " " {
                return Reply(code: code, lines: lines)
            }
        }
        return nil
    }

    func line() -> String? {
        while true {
            if let newline = self.buffer.firstIndex(of: 10) {
                var line = Array(self.buffer[..<newline])
                self.buffer.removeSubrange(...newline)
                if line.last == 13 { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = read(self.fd, &chunk, chunk.count)
            if n <= 0 { return nil }
            self.buffer += chunk[0..<n]
        }
    }

    /// Sends a command and returns its reply.
    func command(_ text: String) -> Reply? {
        self.send(text + "\r\n")
        return self.reply()
    }

    func close() {
        Glibc.close(self.fd)
    }
}

/// Runs blocking client code on a thread of its own: not on the Swift concurrency pool nor on
/// Dispatch's shared threads, which the server's tasks need.
func withClient<T: Sendable>(port: Int, _ body: @escaping @Sendable (TestClient) throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            do {
                let client = try TestClient(port: port)
                defer { client.close() }
                continuation.resume(returning: try body(client))
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }
}
