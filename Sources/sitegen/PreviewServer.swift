// A small HTTP/1.1 server for previewing the site on loopback: GET and HEAD only, one
// thread per connection, one request per connection. It is a development tool, not the
// mail server's web stack (that is SwiftNIO-based); keeping it on plain sockets keeps the
// sitegen binary small, which makes every `sitegen build` start faster.

import SiteBuilder

#if canImport(Glibc)
import Glibc
#endif

struct HTTPRequest {
    var method: String
    /// The path, percent-decoded, without the query.
    var path: String
    var query: [String: String]
}

struct HTTPResponse {
    var status: Int
    var reason: String
    var headers: [(String, String)]
    var body: [UInt8]

    static func text(
        _ status: Int,
        _ reason: String,
        _ body: String,
        type: String = "text/plain; charset=utf-8"
    )
        -> HTTPResponse
    {
        HTTPResponse(status: status, reason: reason, headers: [("Content-Type", type)], body: Array(body.utf8))
    }
}

enum HTTPParse {
    /// Parses the request line of a request head (`GET /path?x=1 HTTP/1.1`); nil if malformed.
    static func request(_ head: [UInt8]) -> HTTPRequest? {
        guard let end = head.firstIndex(of: UInt8(ascii: "\r")) ?? head.firstIndex(of: UInt8(ascii: "\n")) else {
            return nil
        }
        let parts = head[..<end].split(separator: UInt8(ascii: " "))
        guard parts.count == 3, parts[2].starts(with: "HTTP/1.".utf8) else {
            return nil
        }
        let method = String(decoding: parts[0], as: UTF8.self)
        let target = String(decoding: parts[1], as: UTF8.self)
        guard target.hasPrefix("/") else {
            return nil
        }
        var path = Substring(target)
        var query: [String: String] = [:]
        if let q = target.firstIndex(of: "?") {
            path = target[..<q]
            for pair in target[target.index(after: q)...].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                query[String(kv[0])] = kv.count > 1 ? String(kv[1]) : ""
            }
        }
        return HTTPRequest(method: method, path: LinkChecker.percentDecoded(path), query: query)
    }
}

final class PreviewServer: @unchecked Sendable {
    let handler: @Sendable (HTTPRequest) -> HTTPResponse
    let listener: Int32

    struct ServerError: Error, CustomStringConvertible {
        var description: String
    }

    /// Binds to 127.0.0.1:port. The socket is close-on-exec, so a restart by exec frees it.
    init(port: Int, handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse) throws {
        self.handler = handler
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            throw ServerError(description: "socket: \(String(cString: strerror(errno)))")
        }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        addr.sin_addr.s_addr = in_addr_t(UInt32(0x7f00_0001).bigEndian)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ServerError(description: "listening on 127.0.0.1:\(port): \(reason)")
        }
        self.listener = fd
    }

    /// Accepts connections until the process ends, each on its own thread.
    func serve() {
        while true {
            let conn = accept(self.listener, nil, nil)
            if conn < 0 {
                if errno == EINTR || errno == ECONNABORTED || errno == EMFILE {
                    usleep(10_000)
                    continue
                }
                return
            }
            // Close-on-exec, so a restart by exec leaves no connection behind.
            _ = fcntl(conn, F_SETFD, FD_CLOEXEC)
            let handler = self.handler
            Threads.detach {
                Self.handle(conn, handler)
            }
        }
    }

    static func handle(_ fd: Int32, _ handler: (HTTPRequest) -> HTTPResponse) {
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // Read the request head; bodies are not accepted.
        var head: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !Self.hasBlankLine(head) {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 || head.count > 65536 {
                return
            }
            head.append(contentsOf: buffer[0..<n])
        }
        var response: HTTPResponse
        var isHead = false
        if let request = HTTPParse.request(head) {
            isHead = request.method == "HEAD"
            if request.method == "GET" || isHead {
                response = handler(request)
            } else {
                response = .text(405, "Method Not Allowed", "only GET and HEAD\n")
                response.headers.append(("Allow", "GET, HEAD"))
            }
        } else {
            response = .text(400, "Bad Request", "bad request\n")
        }
        var out = "HTTP/1.1 \(response.status) \(response.reason)\r\n"
        for (name, value) in response.headers {
            out += "\(name): \(value)\r\n"
        }
        out += "Content-Length: \(response.body.count)\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
        var bytes = Array(out.utf8)
        if !isHead {
            bytes += response.body
        }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 {
                return
            }
            offset += n
        }
    }

    static func hasBlankLine(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 2 else { return false }
        for i in 1..<bytes.count where bytes[i] == UInt8(ascii: "\n") {
            if bytes[i - 1] == UInt8(ascii: "\n")
                || (i >= 3 && bytes[i - 1] == UInt8(ascii: "\r") && bytes[i - 2] == UInt8(ascii: "\n"))
            {
                return true
            }
        }
        return false
    }
}
