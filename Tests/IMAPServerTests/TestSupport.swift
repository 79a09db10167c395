import Foundation
import IMAPServer
import MailMessage
import MailNetwork
import MailSASL
import MailSpool
import MailStore
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A backend over a store in a temporary directory: one user (mox@localhost / secret), account "mox".
final class StoreBackend: IMAPBackend {
    let dataDir: String
    let opened = Mutex<Account?>(nil)
    let quotaBytes: Int64?

    init(quota: Int64? = nil) {
        self.dataDir = NSTemporaryDirectory() + "imaptest-" + UUID().uuidString
        self.quotaBytes = quota
    }

    func verifyPassword(username: String, password: String) async -> IMAPUser? {
        username == "mox@localhost" && password == "secret" ? IMAPUser(account: "mox", username: username) : nil
    }

    func scramKeys(username: String, hash: SCRAMHash) async -> (IMAPUser, SCRAMServerKeys)? {
        guard username == "mox@localhost" else { return nil }
        let keys = SCRAMServerKeys(hash: hash, password: "secret", salt: Array("saltsaltsalt".utf8), iterations: 4096)
        return (IMAPUser(account: "mox", username: username), keys)
    }

    func verifyCRAMMD5(username: String, challenge: [UInt8], digest: [UInt8]) async -> IMAPUser? { nil }

    func makeSpool() throws(SpoolError) -> MessageSpool {
        try MessageSpool(directory: self.dataDir + "/tmp")
    }

    func account(_ name: String) async throws -> Account {
        if let a = self.opened.withLock({ $0 }) { return a }
        let a = try await Account.open(dataDir: self.dataDir, name: name)
        self.opened.withLock { $0 = a }
        return a
    }

    func searchText(of m: Message) -> String {
        String(decoding: m.bytes[m.header.start..<min(m.header.end, m.bytes.count)], as: UTF8.self) + "\n"
            + TextExtraction.text(of: m)
    }

    func quota(account: String) -> Int64? { self.quotaBytes }

    func cleanup() async {
        if let a = self.opened.withLock({ $0 }) { await a.close() }
        try? FileManager.default.removeItem(atPath: self.dataDir)
    }
}

/// A listener on 127.0.0.1 with a free port over a fresh store.
struct TestServer {
    let listener: IMAPListener
    let backend: StoreBackend
    let port: Int

    static func start(
        quota: Int64? = nil,
        configure: (inout IMAPServerOptions) -> Void = { _ in }
    ) async throws -> TestServer {
        var options = IMAPServerOptions(hostname: "mail.test", tls: nil, clientLimits: .unlimited())
        options.requireTLSForAuth = false
        configure(&options)
        let backend = StoreBackend(quota: quota)
        let listener = try await IMAPListener.start(
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
        await self.backend.cleanup()
    }
}

/// The responses to one command: untagged lines (literals inlined) and the tagged line.
struct Response: CustomStringConvertible {
    var untagged: [String]
    var tagged: String

    /// "OK", "NO" or "BAD".
    var status: String { String(self.tagged.split(separator: " ").dropFirst().first ?? "") }
    var description: String { (self.untagged + [self.tagged]).joined(separator: "\n") }

    func lines(_ prefix: String) -> [String] { self.untagged.filter { $0.hasPrefix(prefix) } }
}

/// A blocking IMAP client on its own thread.
final class TestClient: @unchecked Sendable {
    let fd: Int32
    var buffer: [UInt8] = []
    var counter = 0

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
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        self.fd = fd
    }

    struct ClientError: Error, CustomStringConvertible {
        var message: String
        var description: String { self.message }
    }

    func send(_ text: String) { self.send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(self.fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// One line without its CRLF; nil when closed.
    func rawLine() -> [UInt8]? {
        while true {
            if let newline = self.buffer.firstIndex(of: 10) {
                var line = Array(self.buffer[..<newline])
                self.buffer.removeSubrange(...newline)
                if line.last == 13 { line.removeLast() }
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = Glibc.read(self.fd, &chunk, chunk.count)
            if n <= 0 { return nil }
            self.buffer += chunk[0..<n]
        }
    }

    func read(count: Int) -> [UInt8]? {
        while self.buffer.count < count {
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = Glibc.read(self.fd, &chunk, chunk.count)
            if n <= 0 { return nil }
            self.buffer += chunk[0..<n]
        }
        let out = Array(self.buffer[..<count])
        self.buffer.removeSubrange(..<count)
        return out
    }

    /// A response line with its literals inlined.
    func line() -> String? {
        var out: [UInt8] = []
        while true {
            guard let l = self.rawLine() else { return out.isEmpty ? nil : String(decoding: out, as: UTF8.self) }
            out += l
            // A literal announcement at the end: "{n}" or "~{n}".
            if l.last == UInt8(ascii: "}"), let open = l.lastIndex(of: UInt8(ascii: "{")),
                let n = Int(String(decoding: l[(open + 1)..<(l.count - 1)], as: UTF8.self))
            {
                out += [13, 10]
                guard let data = self.read(count: n) else { return nil }
                out += data
                continue
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Reads until the tagged response of `tag`.
    func response(_ tag: String) -> Response {
        var untagged: [String] = []
        while let l = self.line() {
            if l.hasPrefix(tag + " ") { return Response(untagged: untagged, tagged: l) }
            untagged.append(l)
        }
        return Response(untagged: untagged, tagged: "(closed)")
    }

    func command(_ text: String) -> Response {
        self.counter += 1
        let tag = "t\(self.counter)"
        self.send("\(tag) \(text)\r\n")
        return self.response(tag)
    }

    /// APPEND with a synchronizing literal.
    func append(_ mailbox: String, _ message: String, flags: String = "") -> Response {
        self.counter += 1
        let tag = "t\(self.counter)"
        let data = Array(message.utf8)
        self.send("\(tag) APPEND \(mailbox) \(flags.isEmpty ? "" : "(\(flags)) "){\(data.count)}\r\n")
        guard let cont = self.line(), cont.hasPrefix("+") else { return self.response(tag) }
        self.send(data + [13, 10])
        return self.response(tag)
    }

    func login() -> Response {
        _ = self.line()
        return self.command("LOGIN mox@localhost secret")
    }

    func close() { Glibc.close(self.fd) }
}

/// Runs blocking client code on a thread of its own, off the pool the server's tasks run on.
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

/// A small message in CRLF form.
func testMessage(subject: String, body: String = "hello world\r\n", from: String = "Alice <alice@example.org>") -> String {
    "From: \(from)\r\nTo: Bob <bob@example.com>\r\nSubject: \(subject)\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\n"
        + "Message-ID: <\(subject.replacing(" ", with: "."))@example.org>\r\n\r\n\(body)"
}

let multipartMessage = """
    From: Alice <alice@example.org>\r
    To: bob@example.com\r
    Subject: parts\r
    MIME-Version: 1.0\r
    Content-Type: multipart/mixed; boundary="outer"\r
    \r
    --outer\r
    Content-Type: multipart/alternative; boundary="inner"\r
    \r
    --inner\r
    Content-Type: text/plain; charset=utf-8\r
    \r
    plain text\r
    --inner\r
    Content-Type: text/html; charset=utf-8\r
    \r
    <p>html text</p>\r
    --inner--\r
    --outer\r
    Content-Type: application/octet-stream; name="data.bin"\r
    Content-Disposition: attachment; filename="data.bin"\r
    Content-Transfer-Encoding: base64\r
    \r
    AAECAwQ=\r
    --outer--\r

    """
