// The control socket in the data directory ("ctl"), through which commands reach the running
// server. One request line per connection:
// - "stop": the server shuts down; the connection stays open until the process exits, so the
//   client knows when it is done.
// - "closeaccount NAME": the server closes the account if it has it open (so that `mox config
//   account rm` can remove its data) and answers "ok".
// - "queue JSON": a `mox queue ...` command (QueueControlRequest); the answer is the text to
//   print, "error: ..." for a failure.

import Dispatch
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

final class ControlSocket: Sendable {
    private let fd: Int32
    private let path: String
    private let clients = Mutex<[Int32]>([])

    /// Listens at `path` (replacing a stale socket); nil, with an error logged, when that fails.
    init?(
        path: String,
        log: Logger,
        onStop: @escaping @Sendable () -> Void,
        onCloseAccount: @escaping @Sendable (String) async -> Void,
        onQueue: @escaping @Sendable (String) async -> String = { _ in "error: no queue\n" }
    ) {
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            log.error("control socket", metadata: ["error": "\(String(cString: strerror(errno)))"])
            return nil
        }
        guard var address = Self.address(path) else {
            log.error("control socket path too long", metadata: ["path": "\(path)"])
            Glibc.close(fd)
            return nil
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            log.error("control socket", metadata: ["path": "\(path)", "error": "\(String(cString: strerror(errno)))"])
            Glibc.close(fd)
            return nil
        }
        chmod(path, 0o600)
        self.fd = fd
        self.path = path
        DispatchQueue.global().async { [self] in
            self.acceptLoop(onStop: onStop, onCloseAccount: onCloseAccount, onQueue: onQueue)
        }
    }

    private func acceptLoop(
        onStop: @escaping @Sendable () -> Void,
        onCloseAccount: @escaping @Sendable (String) async -> Void,
        onQueue: @escaping @Sendable (String) async -> String
    ) {
        while true {
            let client = accept(self.fd, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            let command = Self.readLine(client)
            if command.hasPrefix("queue ") {
                let request = String(command.dropFirst("queue ".count))
                let done = DispatchSemaphore(value: 0)
                let answer = Mutex("")
                Task {
                    let text = await onQueue(request)
                    answer.withLock { $0 = text }
                    done.signal()
                }
                done.wait()
                let bytes = Array(answer.withLock { $0 }.utf8)
                var sent = 0
                while sent < bytes.count {
                    let n = bytes.withUnsafeBytes { write(client, $0.baseAddress! + sent, bytes.count - sent) }
                    if n <= 0 {
                        if n < 0 && errno == EINTR { continue }
                        break
                    }
                    sent += n
                }
                Glibc.close(client)
            } else if command.hasPrefix("closeaccount ") {
                let name = String(command.dropFirst("closeaccount ".count))
                let done = DispatchSemaphore(value: 0)
                Task {
                    await onCloseAccount(name)
                    done.signal()
                }
                done.wait()
                _ = "ok\n".withCString { write(client, $0, 3) }
                Glibc.close(client)
            } else if command == "stop" {
                // Kept open: the client waits for EOF, which comes when the process exits.
                self.clients.withLock { $0.append(client) }
                onStop()
            } else {
                let reply = "unknown command\n"
                _ = reply.withCString { write(client, $0, strlen($0)) }
                Glibc.close(client)
            }
        }
    }

    /// The request line (up to 1 MB; the rest of a longer one is ignored).
    static func readLine(_ fd: Int32) -> String {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while out.count < 1 << 20 {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            out += buffer[0..<n]
            if buffer[0..<n].contains(10) { break }
        }
        let line = out.split(separator: 10, maxSplits: 1, omittingEmptySubsequences: false).first ?? []
        return String(decoding: line, as: UTF8.self).trimmingSuffixCR()
    }

    /// The socket address for `path`; nil when the path does not fit.
    static func address(_ path: String) -> sockaddr_un? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }

    func close() {
        shutdown(self.fd, Int32(SHUT_RDWR))
        Glibc.close(self.fd)
        unlink(self.path)
    }

    /// Sends `request` to the server with its control socket at `path` and returns everything it
    /// answers until it closes the connection (for "stop": when the process has exited).
    @discardableResult
    static func send(_ request: String, path: String) throws(RuntimeError) -> String {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw RuntimeError("socket: \(String(cString: strerror(errno)))") }
        defer { Glibc.close(fd) }
        guard var address = Self.address(path) else {
            throw RuntimeError("\(path): path too long for a unix socket")
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            throw RuntimeError("connecting to \(path): \(String(cString: strerror(errno))) (is mox running?)")
        }
        let line = Array((request + "\n").utf8)
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 128)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                break
            }
            answer += buffer[0..<n]
        }
        return String(decoding: answer, as: UTF8.self)
    }
}

public enum MoxControl {
    /// `mox stop`: asks the server using `dataDir` to stop and waits until it has exited.
    public static func stop(dataDir: String) throws(RuntimeError) {
        try ControlSocket.send("stop", path: dataDir + "/ctl")
    }

    /// Asks a running server (if any) to close an account it has open; false when no server
    /// answers on the control socket.
    public static func closeAccount(dataDir: String, name: String) -> Bool {
        (try? ControlSocket.send("closeaccount " + name, path: dataDir + "/ctl")) == "ok\n"
    }

    /// A `mox queue` command for the running server; its answer, or the server's error.
    public static func queue(dataDir: String, _ request: QueueControlRequest) throws(RuntimeError) -> String {
        let answer = try ControlSocket.send("queue " + request.json(), path: dataDir + "/ctl")
        if answer.hasPrefix("error: ") {
            throw RuntimeError(String(answer.dropFirst("error: ".count)).trimmingSuffixNewline())
        }
        return answer
    }
}

extension String {
    func trimmingSuffixCR() -> String { self.hasSuffix("\r") ? String(self.dropLast()) : self }
    func trimmingSuffixNewline() -> String { self.hasSuffix("\n") ? String(self.dropLast()) : self }
}
