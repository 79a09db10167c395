// Monitoring of the server's own IPs in DNS blocklists: a listing means mail we send is likely
// refused elsewhere, so operators want an alert (mox_dnsbl_ips_success < 1) before users notice.
// Monitoring never affects incoming mail.

import Logging
import MailAddress
import MailAuth
import MailConfig
import MailDNS
import MailDelivery
import MailMetrics
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Checks the public IPs of the listeners against the DNSBLs of the "public" listener and
/// domains.conf's MonitorDNSBLs: at start, then when 100 more outgoing connections were made
/// or 3 hours passed, looking every 5 minutes, as mox does.
struct DNSBLMonitor: Service {
    let config: @Sendable () -> Config
    let resolver: any MailDNS.Resolver
    let log: Logger
    /// Between lookups, to be gentle with the lists' servers.
    var pause: Duration = .seconds(1)
    var interval: Duration = .seconds(5 * 60)
    var maxAge: Duration = .seconds(3 * 3600)
    var connectionsPerCheck = 100

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.loop()
        }
    }

    func loop() async {
        var checked: Set<Pair> = []
        var last: ContinuousClock.Instant?
        var lastConnections = 0
        while true {
            let connections = MoxMetrics.outgoingConnections.load(ordering: .relaxed)
            let due = last.map { connections >= lastConnections + self.connectionsPerCheck || ContinuousClock.now - $0 >= self.maxAge } ?? true
            if due {
                last = ContinuousClock.now
                lastConnections = connections
                checked = await self.check(previous: checked)
            }
            guard (try? await Task.sleep(for: self.interval)) != nil else { return }
        }
    }

    struct Pair: Hashable {
        var zone: String
        var ip: String
    }

    /// One round over every zone and IP; returns the pairs now in the metric.
    func check(previous: Set<Pair>) async -> Set<Pair> {
        let config = self.config()
        let zones = Self.zones(config)
        let ips: [IPAddress]
        do {
            ips = try Self.publicIPs(config)
        } catch {
            self.log.error("listing ips for dnsbl monitor", metadata: ["err": "\(error)"])
            for pair in previous {
                MoxMetrics.dnsblIPSuccess(zone: pair.zone, ip: pair.ip, value: -1)
            }
            return previous
        }
        var now: Set<Pair> = []
        for ip in ips {
            for zone in zones {
                now.insert(Pair(zone: zone.text, ip: ip.description))
            }
        }
        for pair in previous.subtracting(now) {
            MoxMetrics.dnsblIPRemove(zone: pair.zone, ip: pair.ip)
        }
        for ip in ips {
            for zone in zones {
                if Task.isCancelled { return now }
                let result = await DNSBL.measuredLookup(zone: zone, ip: ip, resolver: self.resolver)
                MoxMetrics.dnsblIPSuccess(zone: zone.text, ip: ip.description, value: result.status == .pass ? 1 : 0)
                switch result.status {
                case .pass:
                    self.log.debug("ip not in dnsbl", metadata: ["ip": "\(ip)", "zone": "\(zone.text)"])
                case .fail:
                    self.log.error(
                        "our ip is listed in dnsbl",
                        metadata: ["ip": "\(ip)", "zone": "\(zone.text)", "expl": "\(result.explanation)"]
                    )
                case .temperror:
                    self.log.error(
                        "dnsbl monitor lookup",
                        metadata: [
                            "ip": "\(ip)", "zone": "\(zone.text)", "status": "temperror",
                            "err": "\(result.error.map { "\($0)" } ?? "")",
                        ]
                    )
                }
                try? await Task.sleep(for: self.pause)
            }
        }
        return now
    }

    /// The "public" listener's SMTP.DNSBLs, then MonitorDNSBLs, each once.
    static func zones(_ config: Config) -> [DNSName] {
        var seen: Set<String> = []
        var zones: [DNSName] = []
        let texts = (config.staticConfig.listeners["public"]?.smtp.dnsbls ?? []) + config.dynamicConfig.monitorDNSBLs
        for text in texts {
            guard let zone = try? DNSName(text), seen.insert(zone.text.lowercased()).inserted else { continue }
            zones.append(zone)
        }
        return zones
    }

    struct ListingError: Error, CustomStringConvertible {
        var description: String
    }

    /// The addresses others see mail from: each listener's NATIPs, else its IPs (0.0.0.0 and ::
    /// standing for the addresses of the network interfaces), without loopback, private and
    /// link-local ones. None at all when a listener is IPsNATed: the public address is unknown.
    static func publicIPs(_ config: Config) throws(ListingError) -> [IPAddress] {
        var ips: [IPAddress] = []
        var all4 = false
        var all6 = false
        for name in config.staticConfig.listeners.keys.sorted() {
            let listener = config.staticConfig.listeners[name]!
            if listener.ipsNATed { return [] }
            for text in listener.natIPs.isEmpty ? listener.ips : listener.natIPs {
                guard let ip = IPAddress(text) else { continue }
                if ip.isUnspecified {
                    if ip.isIPv4 { all4 = true } else { all6 = true }
                    continue
                }
                ips.append(ip)
            }
        }
        if all4 || all6 {
            let devices: [NIONetworkDevice]
            do {
                devices = try System.enumerateDevices()
            } catch {
                throw ListingError(description: "listing network interfaces: \(error)")
            }
            for device in devices {
                guard let text = device.address?.ipAddress, let ip = IPAddress(text) else { continue }
                if (ip.isIPv4 && all4) || (!ip.isIPv4 && all6) { ips.append(ip) }
            }
        }
        var seen: Set<IPAddress> = []
        return ips.filter { !$0.isLoopback && !$0.isPrivate && !$0.isLinkLocal && seen.insert($0).inserted }
    }
}
