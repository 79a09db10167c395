// Delivery of a batch over SMTP: the transport from the message or the routes (account,
// sender domain, then global, as mox evaluates them), then either the recipient domain's MX
// hosts (direct) or the transport's server.

import Logging
import MailAddress
import MailConfig
import MailDNS
import MailQueue
import MailMetrics
import NIOCore
import NIOPosix
import SMTPClient
import SMTPProtocol
import Synchronization

extension QueueRunner {
    /// The transport for a message: its own (set by an operator), else the first matching route's.
    static func transportName(_ m: QueuedMessage, config: Config) -> String {
        if !m.transport.isEmpty { return m.transport }
        let account = config.dynamicConfig.accounts[m.senderAccount]?.routes ?? []
        let domain = config.dynamicConfig.domains[m.senderDomain]?.routes ?? []
        for routes in [account, domain, config.dynamicConfig.routes] {
            if let route = routes.first(where: { Self.routeMatches($0, m) }) { return route.transport }
        }
        return ""
    }

    /// mox's route match: the attempt count reached, and each domain list empty or holding the
    /// domain (an entry with a leading dot also matches its subdomains).
    static func routeMatches(_ r: Route, _ m: QueuedMessage) -> Bool {
        func matches(_ list: [String], _ domain: String) -> Bool {
            if list.isEmpty { return true }
            let d = domain.lowercased()
            return list.contains { e in
                let e = Domain.parse(e)?.ascii ?? e.lowercased()
                if d == e { return true }
                return e.hasPrefix(".") && (d == String(e.dropFirst()) || d.hasSuffix(e))
            }
        }
        return m.attempts >= r.minimumAttempts && matches(r.fromDomain, m.senderDomain) && matches(r.toDomain, m.recipientDomain)
    }

    func deliverRouted(_ groups: [[QueuedMessage]], config: Config, log: Logger) async -> AttemptOutcome {
        let batch = groups.flatMap { $0 }
        let m0 = batch[0]
        let name = Self.transportName(m0, config: config)
        let all = { (failure: DeliveryFailure, transport: String) in
            AttemptOutcome(failures: Dictionary(uniqueKeysWithValues: batch.map { ($0.id, failure) }), transport: transport, tlsMode: "")
        }
        if name.isEmpty {
            return await self.deliverDirect(groups, direct: nil, config: config, log: log)
        }
        guard let transport = config.staticConfig.transports[name] else {
            return all(DeliveryFailure(code: 0, secode: "", message: "cannot find transport \"\(name)\"", permanent: false), name)
        }
        if let fail = transport.fail {
            let code = fail.smtpCode == 0 ? 554 : fail.smtpCode
            let text = fail.smtpMessage.isEmpty ? "failing according to transport \(name)" : fail.smtpMessage
            return all(DeliveryFailure(code: code, secode: "7.0", message: text, permanent: code / 100 == 5), name)
        }
        if let direct = transport.direct {
            var outcome = await self.deliverDirect(groups, direct: direct, config: config, log: log)
            outcome.transport = name
            return outcome
        }
        if let socks = transport.socks {
            // As mox: direct delivery, every connection made through the proxy, and the
            // proxy's host name in EHLO.
            let proxy: SOCKSProxy
            do {
                proxy = try await self.socksProxy(socks)
            } catch {
                return all(DeliveryFailure(code: 0, secode: "", message: "transport \(name): socks proxy \(socks.address): \(error)", permanent: false), name)
            }
            var outcome = await self.deliverDirect(
                groups, direct: nil, socks: proxy, ehloName: socks.remoteHostname, config: config, log: log
            )
            outcome.transport = name
            return outcome
        }
        let (smtp, defaultPort, immediate, isSubmission): (TransportSMTP, Int, Bool, Bool)
        if let t = transport.submissions {
            (smtp, defaultPort, immediate, isSubmission) = (t, 465, true, true)
        } else if let t = transport.submission {
            (smtp, defaultPort, immediate, isSubmission) = (t, 587, false, true)
        } else if let t = transport.smtp {
            (smtp, defaultPort, immediate, isSubmission) = (t, 25, false, false)
        } else {
            return await self.deliverDirect(groups, direct: nil, config: config, log: log)
        }
        // As mox: TLS with a verified certificate unless the transport says otherwise.
        let tls: SMTPClientTLS
        let tlsMode: String
        if immediate {
            tls = .immediate(verify: true)
            tlsMode = "immediate"
        } else if smtp.startTLSInsecureSkipVerify {
            tls = .startTLS(verify: false)
            tlsMode = "requiredstarttls"
        } else if smtp.noSTARTTLS {
            tls = .none
            tlsMode = "skip"
        } else {
            tls = .startTLS(verify: true)
            tlsMode = "requiredstarttls"
        }
        // RFC 8689 4.1: REQUIRETLS needs a verified connection all the way.
        if m0.requireTLS == true, !(immediate || (!smtp.startTLSInsecureSkipVerify && !smtp.noSTARTTLS)) {
            var outcome = all(
                DeliveryFailure(
                    code: 554, secode: "7.30",
                    message: "transport \(name): message requires verified tls but transport does not verify tls", permanent: true
                ),
                name
            )
            outcome.tlsMode = tlsMode
            return outcome
        }
        let port = smtp.port == 0 ? defaultPort : smtp.port
        let ips: [String]
        do {
            ips = try await self.resolver.hostAddresses(smtp.host).map(\.description)
        } catch {
            return all(DeliveryFailure(code: 0, secode: "", message: "transport \(name): looking up \(smtp.host): \(error)", permanent: false), name)
        }
        var auth: SMTPClientAuth?
        if let a = smtp.auth {
            auth = SMTPClientAuth(username: a.username, password: a.password, mechanisms: a.mechanisms)
        }
        let options = SMTPClientOptions(
            ehloName: config.staticConfig.hostname, tls: tls, serverName: smtp.host, auth: auth, timeouts: self.timeouts
        )
        log.info("delivering to remote", metadata: ["remote": "\(smtp.host):\(port)", "transport": "\(name)"])
        var outcome = await self.deliverHost(
            groups, host: smtp.host, ips: ips, port: port, options: options,
            // Submission servers get 8-bit data only with 8BITMIME (mox requires it there).
            require8bit: isSubmission, log: log
        )
        outcome.transport = name
        outcome.tlsMode = tlsMode
        return outcome
    }

    /// RFC 5321 5.1: the MX hosts by preference (equal ones in random order), or the domain
    /// itself when it has no MX (implicit MX); RFC 7505: a single "." MX accepts no mail.
    func deliverDirect(
        _ groups: [[QueuedMessage]], direct: TransportDirect?, socks: SOCKSProxy? = nil, ehloName: String? = nil, config: Config,
        log: Logger
    ) async -> AttemptOutcome {
        let batch = groups.flatMap { $0 }
        let m0 = batch[0]
        let all = { (failure: DeliveryFailure) in
            AttemptOutcome(failures: Dictionary(uniqueKeysWithValues: batch.map { ($0.id, failure) }), transport: "", tlsMode: "opportunistic")
        }
        var hosts: [(name: String, ips: [String]?)] = []
        let domain = m0.recipientDomain
        if domain.hasPrefix("[") && domain.hasSuffix("]") {
            // RFC 5321 4.1.3: an address literal is the host itself.
            var literal = String(domain.dropFirst().dropLast())
            if literal.lowercased().hasPrefix("ipv6:") { literal = String(literal.dropFirst(5)) }
            guard let ip = IPAddress(literal) else {
                return all(DeliveryFailure(code: 554, secode: "1.2", message: "invalid address literal \(domain)", permanent: true))
            }
            hosts = [(ip.description, [ip.description])]
        } else {
            let name: DNSName
            do {
                name = try DNSName(domain)
            } catch {
                return all(DeliveryFailure(code: 554, secode: "1.2", message: "invalid recipient domain \(domain): \(error)", permanent: true))
            }
            do {
                let (records, _) = try await self.resolver.lookupMX(name)
                if records.count == 1, records[0].host == DNSName.root {
                    return all(
                        DeliveryFailure(
                            code: 556, secode: "1.10",
                            message: "domain does not accept email as indicated with single dot for mx record", permanent: true
                        )
                    )
                }
                let byPreference = Dictionary(grouping: records.filter { $0.host != DNSName.root }, by: \.preference)
                for preference in byPreference.keys.sorted() {
                    for mx in byPreference[preference]!.shuffled() {
                        hosts.append((mx.host.description.hasSuffix(".") ? String(mx.host.description.dropLast()) : mx.host.description, nil))
                    }
                }
            } catch let error where error.isNotFound {
                // RFC 5321 5.1: no MX, the domain is the host.
                hosts = [(domain, nil)]
            } catch {
                return all(DeliveryFailure(code: 0, secode: "", message: "looking up mx records for \(domain): \(error)", permanent: false))
            }
        }
        var lastFailure = DeliveryFailure(code: 0, secode: "", message: "no hosts to deliver to", permanent: false)
        let family: IPFamily = direct?.disableIPv6 == true ? .ipv4 : direct?.disableIPv4 == true ? .ipv6 : .both
        for host in hosts {
            var ips = host.ips ?? []
            if host.ips == nil {
                do {
                    let (found, _) = try await self.resolver.lookupIP(try DNSName(host.name), family: family)
                    ips = Self.order(found, attempts: m0.attempts)
                } catch {
                    lastFailure = DeliveryFailure(code: 0, secode: "", message: "looking up ips for \(host.name): \(error)", permanent: false)
                    continue
                }
            }
            log.info("delivering to remote", metadata: ["remote": "\(host.name)"])
            var options = SMTPClientOptions(
                ehloName: ehloName ?? config.staticConfig.hostname, tls: .opportunistic, serverName: host.name, timeouts: self.timeouts
            )
            options.socksProxy = socks
            let outcome = await self.deliverHost(groups, host: host.name, ips: ips, port: self.smtpPort, options: options, require8bit: false, log: log)
            // Delivered (to some), or refused permanently: done. A temporary failure of the
            // whole transaction moves on to the next host.
            let transactionWide = outcome.failures.count == batch.count && Set(outcome.failures.values.map(\.message)).count == 1
            if !transactionWide || outcome.failures.values.contains(where: \.permanent) {
                return outcome
            }
            lastFailure = outcome.failures.values.first ?? lastFailure
        }
        return all(lastFailure)
    }

    /// On a later attempt the other address family goes first (a host may be reachable over
    /// one only; mox alternates the same way).
    static func order(_ ips: [IPAddress], attempts: Int) -> [String] {
        let v6 = ips.filter { $0.description.contains(":") }
        let v4 = ips.filter { !$0.description.contains(":") }
        let ordered = attempts % 2 == 0 && !v6.isEmpty && !v4.isEmpty ? v4 + v6 : ips
        return ordered.map(\.description)
    }

    /// The addresses outgoing connections come from, as mox picks them: when the SMTP
    /// listeners name at most one IPv4 and one IPv6 address (none unspecified), connections
    /// are made from those, so they match the SPF records and reverse DNS of the listener.
    static func specifiedSMTPListenIPs(_ config: Config) -> [IPAddress] {
        var out: [IPAddress] = []
        for listener in config.staticConfig.listeners.values where listener.smtp.enabled {
            if listener.ips.isEmpty { return [] }
            for text in listener.ips {
                guard let ip = IPAddress(text) else { continue }
                let v6 = ip.description.contains(":")
                if ip.description == "0.0.0.0" || ip.description == "::" { return [] }
                if out.count >= 2 || (out.first.map { $0.description.contains(":") == v6 } ?? false) { return [] }
                out.append(ip)
            }
        }
        return out
    }

    /// Connects to the first reachable IP and runs one transaction for the batch (in chunks
    /// when the server limits recipients per transaction).
    func deliverHost(
        _ groups: [[QueuedMessage]], host: String, ips: [String], port: Int, options: SMTPClientOptions, require8bit: Bool,
        log: Logger
    ) async -> AttemptOutcome {
        let batch = groups.flatMap { $0 }
        var outcome = AttemptOutcome(failures: [:], transport: "", tlsMode: "opportunistic", remoteHost: host)
        func failAll(_ f: DeliveryFailure) -> AttemptOutcome {
            var o = outcome
            for m in batch { o.failures[m.id] = f }
            return o
        }
        var connection: SMTPClientConnection?
        var lastError: SMTPClientError?
        var connectedIP = ""
        let local = Self.specifiedSMTPListenIPs(self.config())
        for ip in ips {
            var options = options
            let v6 = ip.contains(":")
            if options.socksProxy == nil {
                options.localAddress = local.first { $0.description.contains(":") == v6 }?.description
            }
            do {
                connection = try await SMTPClientConnection.connect(
                    ip: ip, port: port, options: options, group: MultiThreadedEventLoopGroup.singleton, log: log
                )
                connectedIP = ip
                MoxMetrics.queueConnection(result: "ok")
                MoxMetrics.outgoingConnections.add(1, ordering: .relaxed)
                break
            } catch {
                MoxMetrics.queueConnection(result: error.kind == .timeout ? "timeout" : "error")
                log.info("connecting for delivery", metadata: ["remote": "\(ip):\(port)", "err": "\(error)"])
                lastError = error
            }
        }
        guard let connection else {
            let e = lastError ?? SMTPClientError(.io("no ip addresses for \(host)"), stage: .dial)
            return failAll(Self.failure(e, host: host, ip: connectedIP))
        }
        if !connection.tlsActive, case .opportunistic = options.tls {
            outcome.tlsMode = "opportunistic"
        }
        // One transaction per group, on the same connection; when the connection is lost, the
        // groups not yet sent fail with the same temporary error.
        var broken: DeliveryFailure?
        var commits: [Task<Void, Never>] = []
        for group in groups {
            if let broken {
                for m in group { outcome.failures[m.id] = broken }
                continue
            }
            let m0 = group[0]
            if require8bit && m0.has8bit && !connection.extensions.eightBitMIME {
                let f = DeliveryFailure(
                    code: 554, secode: "6.0",
                    message: "remote smtp server does not implement 8bitmime extension, required by message", permanent: true,
                    remoteHost: host, remoteIP: connectedIP
                )
                for m in group { outcome.failures[m.id] = f }
                continue
            }
            let body = OutgoingMessage(
                prefix: m0.msgPrefix, body: .file(path: self.queue.path(for: m0.id)), size: Int(m0.size), has8bit: m0.has8bit,
                smtputf8: m0.smtputf8
            )
            let chunk = connection.extensions.rcptMax ?? 1000
            var index = 0
            while index < group.count {
                let part = Array(group[index..<min(group.count, index + chunk)])
                index += part.count
                if let broken {
                    for m in part { outcome.failures[m.id] = broken }
                    continue
                }
                do {
                    let result = try await connection.deliver(
                        mailFrom: m0.sender, recipients: part.map(\.recipient), message: body, requireTLS: m0.requireTLS == true
                    )
                    var delivered: [QueuedMessage] = []
                    for (m, error) in zip(part, result.recipients) {
                        if let error {
                            outcome.failures[m.id] = Self.failure(error, host: host, ip: connectedIP)
                        } else {
                            delivered.append(m)
                        }
                    }
                    // Recorded at once, the commit running while the next transaction is sent,
                    // and at most one commit outstanding: a crash repeats at most the last two
                    // transactions of this connection.
                    if !delivered.isEmpty {
                        for commit in commits { await commit.value }
                        let done = delivered
                        let logger = log
                        commits = [Task { @Sendable in await self.recordDelivered(done, log: logger) }]
                    }
                    for m in delivered { outcome.recorded.insert(m.id) }
                } catch {
                    var f = Self.failure(error, host: host, ip: connectedIP)
                    switch error.kind {
                    case .missingExtension(let name) where name == "SMTPUTF8":
                        // mox retries: another MX, or the same one later, may do better.
                        f.permanent = false
                        f.message = "remote smtp server does not implement smtputf8 extension, required by message"
                    case .missingExtension(let name) where name == "REQUIRETLS":
                        f.permanent = false
                        f.secode = "7.30"
                        f.message = "remote smtp server does not implement requiretls extension, required by message"
                    case .missingExtension, .reply:
                        break
                    default:
                        broken = f
                    }
                    if error.reply?.code == 421 { broken = f }
                    for m in part { outcome.failures[m.id] = f }
                }
            }
        }
        if broken == nil {
            await connection.quit()
        } else {
            connection.close()
        }
        for commit in commits { await commit.value }
        return outcome
    }

    /// A Socks transport's Address, "host:port" or "[ipv6]:port", resolved to an IP.
    func socksProxy(_ socks: TransportSocks) async throws -> SOCKSProxy {
        guard let (host, port) = socks.hostPort, port != 0 else {
            throw SOCKS5.Failure(message: "address must be host:port")
        }
        guard let ip = try await self.resolver.hostAddresses(host).first else {
            throw SOCKS5.Failure(message: "no ip address for \(host)")
        }
        return SOCKSProxy(ip: ip.description, port: port)
    }

    static func failure(_ e: SMTPClientError, host: String, ip: String) -> DeliveryFailure {
        let lines = e.reply.map { r in r.lines.map { "\(r.code) \(r.enhanced.map { "\($0) " } ?? "")\($0)" } } ?? []
        let secode = e.reply?.enhanced.map { "\($0.subject).\($0.detail)" } ?? ""
        return DeliveryFailure(
            code: e.reply?.code ?? 0, secode: secode, message: e.reply.map { "\(e.stage.rawValue): \($0.code) \($0.text)" } ?? e.description,
            smtpLines: lines, permanent: e.permanent, remoteHost: host, remoteIP: ip
        )
    }
}
