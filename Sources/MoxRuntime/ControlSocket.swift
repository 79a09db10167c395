// The control socket in the data directory ("ctl"), through which commands reach the running
// server. It understands "stop": the server shuts down, and the connection stays open until the
// process exits, so the client knows when it is done.

import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

final class ControlSocket: Sendable {
    private let fd: Int32
    private let path: String
    private let clients = Mutex<[Int32]>([])

    /// Listens at `path` (replacing a stale socket); nil, with an error logged, when that fails.
    init?(path: String, log: Logger, onStop: @escaping @Sendable () -> Void) {
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            log.error("control socket", ["error": String(cString: strerror(errno))])
            return nil
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            log.error("control socket path too long", ["path": path])
            Glibc.close(fd)
            return nil
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            log.error("control socket", ["path": path, "error": String(cString: strerror(errno))])
            Glibc.close(fd)
            return nil
        }
        chmod(path, 0o600)
        self.fd = fd
        self.path = path
        DispatchQueue.global().async { [self] in
            self.acceptLoop(onStop: onStop)
        }
    }

    private func acceptLoop(onStop: @escaping @Sendable () -> Void) {
        while true {
            let client = accept(self.fd, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            var buffer = [UInt8](repeating: 0, count: 64)
            let n = read(client, &buffer, buffer.count)
            let command = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
            if command.hasPrefix("stop") {
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

    func close() {
        shutdown(self.fd, Int32(SHUT_RDWR))
        Glibc.close(self.fd)
        unlink(self.path)
    }

    /// Asks the server with its control socket at `path` to stop, and waits until it has.
    static func requestStop(path: String) throws(RuntimeError) {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw RuntimeError("socket: \(String(cString: strerror(errno)))") }
        defer { Glibc.close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw RuntimeError("\(path): path too long for a unix socket")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            throw RuntimeError("connecting to \(path): \(String(cString: strerror(errno))) (is mox running?)")
        }
        _ = "stop\n".withCString { write(fd, $0, 5) }
        var buffer = [UInt8](repeating: 0, count: 128)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n == 0 { return }
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
        }
    }
}

public enum MoxControl {
    /// `mox stop`: asks the server using `dataDir` to stop and waits until it has exited.
    public static func stop(dataDir: String) throws(RuntimeError) {
        try ControlSocket.requestStop(path: dataDir + "/ctl")
    }
}
