// /etc/resolv.conf as the network resolver reads it (resolv.conf(5), glibc's defaults).

import MailAddress

public struct ResolvConf: Hashable, Sendable {
    /// Up to three servers (glibc's MAXNS), in order; port 53 unless a test says otherwise.
    public var servers: [Server]
    /// Seconds to wait for one reply (options timeout:N; glibc default 5, at most 30).
    public var timeout: Int
    /// Rounds over all servers (options attempts:N; glibc default 2, at most 5).
    public var attempts: Int
    /// options rotate: start with a different server each query.
    public var rotate: Bool
    /// options use-vc: TCP for every query.
    public var useTCP: Bool

    public struct Server: Hashable, Sendable, CustomStringConvertible {
        public var address: IPAddress
        public var port: Int

        public init(address: IPAddress, port: Int = 53) {
            self.address = address
            self.port = port
        }

        public var description: String {
            address.isIPv4 ? "\(address):\(port)" : "[\(address)]:\(port)"
        }
    }

    public init(servers: [Server], timeout: Int = 5, attempts: Int = 2, rotate: Bool = false, useTCP: Bool = false) {
        self.servers = servers
        self.timeout = timeout
        self.attempts = attempts
        self.rotate = rotate
        self.useTCP = useTCP
    }

    /// glibc's servers when the file names none: the local host.
    public static let localServers = [Server(address: IPAddress("127.0.0.1")!), Server(address: IPAddress("::1")!)]

    /// Reads the file's text. Unknown keywords and options are ignored, as the C library does;
    /// search and domain lines are ignored because the server only looks up absolute names.
    public init(parsing text: String) {
        var servers: [Server] = []
        self.init(servers: [])
        for raw in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = raw.split(maxSplits: 1, omittingEmptySubsequences: false, whereSeparator: { $0 == "#" || $0 == ";" }).first ?? ""
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let keyword = words.first else { continue }
            switch keyword {
            case "nameserver":
                // A zone index ("fe80::1%eth0") is not supported: such a server is skipped.
                if words.count >= 2, servers.count < 3, let ip = IPAddress(String(words[1])) {
                    servers.append(Server(address: ip))
                }
            case "options":
                for option in words.dropFirst() {
                    let parts = option.split(separator: ":", maxSplits: 1)
                    switch parts[0] {
                    case "timeout": if parts.count == 2, let v = Int(parts[1]) { self.timeout = min(max(v, 1), 30) }
                    case "attempts": if parts.count == 2, let v = Int(parts[1]) { self.attempts = min(max(v, 1), 5) }
                    case "rotate": self.rotate = true
                    case "use-vc": self.useTCP = true
                    default: break
                    }
                }
            default:
                break
            }
        }
        self.servers = servers.isEmpty ? Self.localServers : servers
    }
}
