import ArgumentParser
import FoundationEssentials
import Logging
import MailConfig
import MailDNS
import MailMessage
import MoxCommands
import NIOCore
import NIOPosix
import SMTPProtocol
import SMTPClient
import Sconf

#if canImport(Glibc)
import Glibc
#endif

extension ConfigDescribeSendmail: RunnableCommand {
    func execute() throws {
        print(Sconf.describe(SubmitConfig.self), terminator: "")
    }
}

extension Sendmail: RunnableCommand {
    func execute() throws {
        let env = ProcessInfo.processInfo.environment["MOXSUBMITCONF"] ?? ""
        let path = env.isEmpty ? SubmitConfig.defaultPath : env
        guard let data = FileManager.default.contents(atPath: path) else {
            try fail("reading \(path): cannot read file (see mox config describe-sendmail)")
        }
        let config: SubmitConfig
        do {
            config = try Sconf.parse(SubmitConfig.self, from: String(decoding: data, as: UTF8.self), file: path).value
        } catch {
            try fail("\(error)")
        }
        if !config.clientAuthEd25519PrivateKey.isEmpty || !config.clientAuthCertPrivateKeyPEMFile.isEmpty {
            try fail("\(path): TLS client certificate authentication is not supported yet; set Password")
        }
        guard !config.password.isEmpty else { try fail("\(path): Password must be set") }
        guard ["", "yes", "no"].contains(config.requireTLS) else { try fail("\(path): RequireTLS must be yes, no or empty") }
        if config.requireTLS == "yes" && !config.tls && !config.startTLS {
            try fail("\(path): RequireTLS yes needs TLS or STARTTLS")
        }

        // sendmail's flags: -t takes the recipient from To; everything else is accepted and ignored.
        var useTo = false
        var recipients: [String] = []
        var flagsDone = false
        for arg in self.arguments {
            if !flagsDone && arg == "--" {
                flagsDone = true
            } else if !flagsDone && arg.hasPrefix("-") {
                if arg == "-t" { useTo = true }
            } else {
                recipients.append(arg)
            }
        }
        var input: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(0, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            input += buffer[0..<n]
        }
        let (header, body) = Self.split(input)
        if useTo {
            let to = header.filter { $0.name.lowercased() == "to" }
            guard to.count == 1 else { try fail("-t needs exactly one To header") }
            let value = trimmedWhitespace(to[0].value)
            guard !value.contains(",") else { try fail("-t needs a single address in To") }
            var address = value
            if let open = value.lastIndex(of: "<"), let close = value.lastIndex(of: ">"), open < close {
                address = String(value[value.index(after: open)..<close])
            }
            recipients = [address]
        }
        guard recipients.count == 1 else { try fail("need exactly one recipient") }
        var recipient = recipients[0]
        if !recipient.contains("@") {
            guard !config.defaultDestination.isEmpty else {
                try fail("recipient \"\(recipient)\" has no domain and no DefaultDestination is configured")
            }
            recipient = config.defaultDestination
        }

        // The configured From replaces the message's; a To is added when missing.
        var out = "From: <\(config.from)>\r\n"
        if !header.contains(where: { $0.name.lowercased() == "to" }) { out += "To: <\(recipient)>\r\n" }
        if config.requireTLS == "no" { out += "TLS-Required: No\r\n" }
        for field in header where field.name.lowercased() != "from" {
            out += field.raw
        }
        let message = Array(out.utf8) + Array("\r\n".utf8) + Self.crlf(body)

        let tls: SMTPClientTLS =
            config.tls ? .immediate(verify: !config.tlsInsecureSkipVerify)
            : config.startTLS ? .startTLS(verify: !config.tlsInsecureSkipVerify) : .none
        var mechanisms: [String] = []
        if !config.authMethod.isEmpty {
            mechanisms = [config.authMethod.uppercased()]
        } else if config.tls || config.startTLS {
            mechanisms = ["SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN"]
        }
        var timeouts = SMTPClientTimeouts(all: .seconds(60))
        timeouts.connect = .seconds(30)
        let options = SMTPClientOptions(
            ehloName: config.localHostname.isEmpty ? "localhost" : config.localHostname, tls: tls, serverName: config.host,
            auth: SMTPClientAuth(username: config.username, password: config.password, mechanisms: mechanisms), timeouts: timeouts
        )
        let port = config.port != 0 ? config.port : config.tls ? 465 : 587
        let host = config.host
        let from = config.from
        let to = recipient
        let requireTLS = config.requireTLS == "yes"
        let has8bit = message.contains { $0 >= 0x80 }
        let result: String? = try runAsync { () async -> String? in
            let log = Logger(label: "sendmail") { _ in SwiftLogNoOpLogHandler() }
            let ips: [String]
            do {
                ips = try await commandResolver().hostAddresses(host).map(\.description)
            } catch {
                return "looking up \(host): \(error)"
            }
            var lastError = "no address for \(host)"
            for ip in ips {
                do {
                    let c = try await SMTPClientConnection.connect(
                        ip: ip, port: port, options: options, group: MultiThreadedEventLoopGroup.singleton, log: log
                    )
                    defer { c.close() }
                    // As mox: 8-bit data only to a server that says it takes it.
                    if has8bit && !c.extensions.eightBitMIME {
                        return "remote smtp server does not implement 8bitmime extension, required by message"
                    }
                    let r = try await c.deliver(
                        mailFrom: from, recipients: [to],
                        message: OutgoingMessage(prefix: [], body: .bytes(message), size: message.count, has8bit: has8bit, smtputf8: false),
                        requireTLS: requireTLS
                    )
                    await c.quit()
                    if let e = r.recipients.first ?? nil { return e.description }
                    return nil
                } catch let error as SMTPClientError {
                    lastError = error.description
                    if case .io = error.kind, error.stage == .dial { continue }
                    return lastError
                } catch {
                    return "\(error)"
                }
            }
            return lastError
        }
        if let result {
            writeStderr("mox: submit failed: \(result)\n")
            Self.saveFailure(message)
            throw ExitCode(1)
        }
    }

    struct Field {
        var name: String
        var value: String
        /// The field as read, with CRLF line endings.
        var raw: String
    }

    /// The header fields (with continuation lines) and the body, from LF or CRLF input.
    static func split(_ input: [UInt8]) -> ([Field], [UInt8]) {
        let text = String(decoding: input, as: UTF8.self)
        var fields: [Field] = []
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        var consumed = 0
        while consumed < lines.count {
            let line = lines[consumed]
            if line.isEmpty { consumed += 1; break }
            if (line.hasPrefix(" ") || line.hasPrefix("\t")), !fields.isEmpty {
                fields[fields.count - 1].value += "\n" + line
                fields[fields.count - 1].raw += line + "\r\n"
            } else if let colon = line.firstIndex(of: ":") {
                fields.append(Field(name: String(line[..<colon]), value: String(line[line.index(after: colon)...]), raw: line + "\r\n"))
            } else {
                // Not a header: the message has none, all of it is body.
                return ([], input)
            }
            consumed += 1
        }
        lines.removeFirst(min(consumed, lines.count))
        return (fields, Array(lines.joined(separator: "\n").utf8))
    }

    /// Bare LF line endings become CRLF.
    static func crlf(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 20)
        var previous: UInt8 = 0
        for b in bytes {
            if b == 10 && previous != 13 { out.append(13) }
            out.append(b)
            previous = b
        }
        if out.count >= 2 && !(out[out.count - 2] == 13 && out[out.count - 1] == 10) { out += [13, 10] }
        return out
    }

    /// Keeps an unsent message in $HOME/moxsubmit.failures, as mox does.
    static func saveFailure(_ message: [UInt8]) {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? "/tmp"
        let dir = home + "/moxsubmit.failures"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var template = Array((dir + "/newmsg.XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return }
        _ = message.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let path = String(cString: template)
        writeStderr("mox: message saved in \(path)\n")
    }
}
