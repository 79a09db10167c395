// Checks on a parsed domains.conf, against the mox.conf it is loaded with: the checks mox
// makes on load, except those that need the network or the data directory.
import FoundationEssentials
import Sconf

extension Validator {
    /// Checks `c`. Problems that are in mox.conf but only show with domains.conf, such as an
    /// unknown postmaster account, go to `staticErrors`.
    mutating func checkDynamic(_ c: DynamicConfig, staticConfig s: StaticConfig, staticErrors: inout Validator) {
        if c.accounts[s.postmaster.account] == nil {
            staticErrors.add(
                "Postmaster.Account",
                "unknown account \"\(s.postmaster.account)\": no such account in domains.conf"
            )
        }
        // Canonical address (localpart lower-cased unless case-sensitive) to account name.
        var addresses: [String: String] = [:]
        if !s.hostTLSRPT.account.isEmpty {
            if c.accounts[s.hostTLSRPT.account] == nil {
                staticErrors.add(
                    "HostTLSRPT.Account",
                    "unknown account \"\(s.hostTLSRPT.account)\": no such account in domains.conf"
                )
            }
            addresses["\(s.hostTLSRPT.localpart)@\(s.hostname)"] = s.hostTLSRPT.account
        }

        let haveMTASTSListener = s.listeners.values.contains { $0.mtastsHTTPS.enabled }
        let haveWebserverListener = s.listeners.values.contains {
            $0.webserverHTTP.enabled || $0.webserverHTTPS.enabled
        }

        self.checkRoutes(c.routes, "Routes", transports: s.transports)

        for (name, d) in c.domains.sorted(by: { $0.key < $1.key }) {
            self.checkDomainConfig(d, name: name, haveMTASTSListener: haveMTASTSListener, transports: s.transports)
        }
        for (name, a) in c.accounts.sorted(by: { $0.key < $1.key }) {
            self.checkAccount(a, name: name, domains: c.domains, transports: s.transports, addresses: &addresses)
        }
        self.checkReportingAddresses(c, addresses: &addresses)
        self.checkAliases(c, addresses: addresses)
        self.checkWeb(c, haveWebserverListener: haveWebserverListener)

        var zones: Set<String> = []
        for (i, zone) in c.monitorDNSBLs.enumerated() {
            self.checkDomain(zone, "MonitorDNSBLs[\(i)]", what: "DNSBL zone")
            if !zones.insert(zone).inserted {
                self.add("MonitorDNSBLs[\(i)]", "duplicate DNSBL zone \(zone)")
            }
        }
    }

    // MARK: - Routes

    private mutating func checkRoutes(_ routes: [Route], _ path: String, transports: [String: Transport]) {
        for (i, r) in routes.enumerated() {
            let p = "\(path)[\(i)]"
            for (field, list) in [("FromDomain", r.fromDomain), ("ToDomain", r.toDomain)] {
                for (j, d) in list.enumerated() where d != "." {
                    self.checkDomain(d.hasPrefix(".") ? String(d.dropFirst()) : d, p + ".\(field)[\(j)]")
                }
            }
            if r.minimumAttempts < 0 {
                self.add(p + ".MinimumAttempts", "must not be negative")
            }
            if transports[r.transport] == nil {
                let known = transports.keys.sorted().joined(separator: ", ")
                self.add(
                    p + ".Transport",
                    "unknown transport \"\(r.transport)\"; Transports in mox.conf: \(known.isEmpty ? "none" : known)"
                )
            }
        }
    }

    // MARK: - Domains

    /// The catchall separators in effect for a domain.
    static func separators(_ d: DomainConfig) -> [String] {
        // Both fields may be set here: validation reports that, and checks every separator given.
        d.localpartCatchallSeparators + (d.localpartCatchallSeparator.isEmpty ? [] : [d.localpartCatchallSeparator])
    }

    /// The canonical form of a localpart at a domain, as used to find its destination.
    static func canonical(_ localpart: String, _ d: DomainConfig?) -> String {
        guard let d else {
            return localpart.lowercased()
        }
        var lp = d.localpartCaseSensitive ? localpart : localpart.lowercased()
        for sep in Self.separators(d) where !sep.isEmpty {
            if let r = lp.firstRange(of: sep) {
                lp = String(lp[..<r.lowerBound])
            }
        }
        return lp
    }

    private mutating func checkDomainConfig(
        _ d: DomainConfig,
        name: String,
        haveMTASTSListener: Bool,
        transports: [String: Transport]
    ) {
        let p = "Domains.\(name)"
        self.checkDomain(name, p)
        if !d.clientSettingsDomain.isEmpty {
            self.checkDomain(d.clientSettingsDomain, p + ".ClientSettingsDomain")
        }
        if !d.localpartCatchallSeparator.isEmpty && !d.localpartCatchallSeparators.isEmpty {
            self.add(p + ".LocalpartCatchallSeparators", "cannot be set together with LocalpartCatchallSeparator")
        }
        var seenSeparators: Set<String> = []
        for (i, sep) in d.localpartCatchallSeparators.enumerated() {
            if sep.isEmpty {
                self.add(p + ".LocalpartCatchallSeparators[\(i)]", "empty separator")
            }
            if !seenSeparators.insert(sep).inserted {
                self.add(p + ".LocalpartCatchallSeparators[\(i)]", "duplicate separator \"\(sep)\"")
            }
        }

        for (i, sel) in d.dkim.sign.enumerated() where d.dkim.selectors[sel] == nil {
            let known = d.dkim.selectors.keys.sorted().joined(separator: ", ")
            self.add(
                p + ".DKIM.Sign[\(i)]",
                "unknown DKIM selector \"\(sel)\"; Selectors has: \(known.isEmpty ? "none" : known)"
            )
        }
        for (selName, sel) in d.dkim.selectors.sorted(by: { $0.key < $1.key }) {
            let sp = p + ".DKIM.Selectors.\(selName)"
            self.checkDomain(selName, sp, what: "selector name")
            if !sel.expiration.isEmpty {
                if let exp = SconfDuration(sconfText: Substring(sel.expiration)) {
                    if exp.nanoseconds <= 0 {
                        self.add(sp + ".Expiration", "expiration must be positive")
                    }
                } else {
                    self.add(sp + ".Expiration", "invalid duration \"\(sel.expiration)\", e.g. 72h")
                }
            }
            if !["", "sha256", "sha1"].contains(sel.hash) {
                self.add(sp + ".Hash", "unsupported hash \"\(sel.hash)\": must be sha256 or sha1")
            }
            if !sel.headers.isEmpty && !sel.headers.contains(where: { $0.lowercased() == "from" }) {
                self.add(sp + ".Headers", "the From header must always be signed")
            }
            if sel.privateKeyFile.isEmpty {
                self.add(sp + ".PrivateKeyFile", "a private key file is required")
            }
        }

        if let sts = d.mtasts {
            if !haveMTASTSListener {
                self.add(p + ".MTASTS", "MTA-STS is configured, but no listener in mox.conf has MTASTSHTTPS enabled")
            }
            if sts.policyID.isEmpty {
                self.add(p + ".MTASTS.PolicyID", "the policy ID cannot be empty")
            }
            if !["none", "testing", "enforce"].contains(sts.mode) {
                self.add(p + ".MTASTS.Mode", "invalid mode \"\(sts.mode)\": must be enforce, testing or none")
            }
            if sts.maxAge.nanoseconds < 0 {
                self.add(p + ".MTASTS.MaxAge", "must not be negative")
            }
            for (i, mx) in sts.mx.enumerated() {
                self.checkDomain(
                    mx.hasPrefix("*.") ? String(mx.dropFirst(2)) : mx,
                    p + ".MTASTS.MX[\(i)]",
                    what: "MX host"
                )
            }
        }
        self.checkRoutes(d.routes, p + ".Routes", transports: transports)
    }

    // MARK: - Accounts

    private static let outgoingWebhookEvents = [
        "delivered", "suppressed", "delayed", "failed", "relayed", "expanded", "canceled", "unrecognized",
    ]

    private mutating func checkWebhookURL(_ s: String, _ path: String) {
        guard let url = URL(string: s), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            self.add(path, "invalid URL \"\(s)\": must be an http or https URL")
            return
        }
    }

    private mutating func checkAccount(
        _ a: AccountConfig,
        name: String,
        domains: [String: DomainConfig],
        transports: [String: Transport],
        addresses: inout [String: String]
    ) {
        let p = "Accounts.\(name)"
        // mox writes an empty Domain for localserve's account; only a non-empty one must be configured.
        if !a.domain.isEmpty && domains[a.domain] == nil {
            if let problem = ConfigSyntax.domainProblem(a.domain) {
                self.add(p + ".Domain", "invalid domain: \(problem)")
            } else {
                self.add(p + ".Domain", "unknown domain \"\(a.domain)\": not in Domains")
            }
        }
        if a.rejectsMailbox.lowercased() == "inbox" {
            self.add(
                p + ".RejectsMailbox",
                "cannot be Inbox: messages in the rejects mailbox are removed automatically"
            )
        }
        self.checkMailboxName(a.rejectsMailbox, p + ".RejectsMailbox")
        if !a.introbox.isEmpty {
            self.checkMailboxName(a.introbox, p + ".Introbox")
            if a.introbox.lowercased() == "inbox" {
                self.add(p + ".Introbox", "cannot be Inbox")
            }
            if a.introbox == a.rejectsMailbox {
                self.add(p + ".Introbox", "cannot be the same mailbox as RejectsMailbox")
            }
        }
        if !a.loginDisabled.isEmpty {
            self.checkReplyText(a.loginDisabled, p + ".LoginDisabled")
        }
        for (field, re) in [
            ("JunkMailboxRegexp", a.automaticJunkFlags.junkMailboxRegexp),
            ("NeutralMailboxRegexp", a.automaticJunkFlags.neutralMailboxRegexp),
            ("NotJunkMailboxRegexp", a.automaticJunkFlags.notJunkMailboxRegexp),
        ] where !re.isEmpty {
            self.checkRegexp(re, p + ".AutomaticJunkFlags.\(field)")
        }
        if let jf = a.junkFilter {
            let jp = p + ".JunkFilter"
            if jf.threshold < 0 || jf.threshold > 1 {
                self.add(jp + ".Threshold", "must be from 0 to 1")
            }
            if jf.params.maxPower < 0 || jf.params.maxPower > 0.5 {
                self.add(jp + ".Params.MaxPower", "must be from 0 to 0.5")
            }
            if jf.params.topWords < 0 {
                self.add(jp + ".Params.TopWords", "must not be negative")
            }
            if jf.params.ignoreWords < 0 || jf.params.ignoreWords > 0.5 {
                self.add(jp + ".Params.IgnoreWords", "must be from 0 to 0.5")
            }
            if jf.params.rareWords < 0 {
                self.add(jp + ".Params.RareWords", "must not be negative")
            }
        }
        if a.maxOutgoingMessagesPerDay < 0 {
            self.add(p + ".MaxOutgoingMessagesPerDay", "must not be negative")
        }
        if a.maxFirstTimeRecipientsPerDay < 0 {
            self.add(p + ".MaxFirstTimeRecipientsPerDay", "must not be negative")
        }
        if let hook = a.outgoingWebhook {
            self.checkWebhookURL(hook.url, p + ".OutgoingWebhook.URL")
            for (i, e) in hook.events.enumerated() where !Self.outgoingWebhookEvents.contains(e) {
                self.add(
                    p + ".OutgoingWebhook.Events[\(i)]",
                    "unknown event \"\(e)\": must be one of " + Self.outgoingWebhookEvents.joined(separator: ", ")
                )
            }
        }
        if let hook = a.incomingWebhook {
            self.checkWebhookURL(hook.url, p + ".IncomingWebhook.URL")
        }

        var own: Set<String> = []
        for (key, dest) in a.destinations.sorted(by: { $0.key < $1.key }) {
            let dp = p + ".Destinations.\(key)"
            self.checkDestination(dest, dp)
            let address: String
            if key.hasPrefix("@") {
                // Catchall for a domain.
                let domain = String(key.dropFirst())
                guard domains[domain] != nil else {
                    self.add(
                        dp,
                        ConfigSyntax.domainProblem(domain).map { "invalid catchall: \($0)" }
                            ?? "unknown domain \"\(domain)\": not in Domains"
                    )
                    continue
                }
                address = key
            } else {
                let localpart: String
                let domain: String
                if key.contains("@") {
                    switch ConfigSyntax.parseAddress(key) {
                    case .failure(let problem):
                        self.add(dp, problem.reason)
                        continue
                    case .success(let parts):
                        (localpart, domain) = parts
                    }
                } else {
                    // Deprecated: a bare localpart at the account's domain.
                    if let problem = ConfigSyntax.localpartProblem(key) {
                        self.add(dp, "invalid address: \(problem)")
                        continue
                    }
                    (localpart, domain) = (key, a.domain)
                }
                guard let dc = domains[domain] else {
                    self.add(dp, "unknown domain \"\(domain)\": not in Domains")
                    continue
                }
                var hasSeparator = false
                for sep in Self.separators(dc) where !sep.isEmpty && localpart.contains(sep) {
                    self.add(dp, "localpart \"\(localpart)\" contains the domain's catchall separator \"\(sep)\"")
                    hasSeparator = true
                }
                if hasSeparator {
                    continue
                }
                address = Self.canonical(localpart, dc) + "@" + domain
            }
            if let other = addresses[address] {
                self.add(
                    dp,
                    other == name
                        ? "duplicate destination: \(address) is already configured for this account"
                        : "address \(address) is already a destination of account \"\(other)\""
                )
                continue
            }
            addresses[address] = name
            own.insert(address)
        }

        for (i, s) in a.fromIDLoginAddresses.enumerated() {
            let fp = p + ".FromIDLoginAddresses[\(i)]"
            guard case .success(let parts) = ConfigSyntax.parseAddress(s) else {
                self.add(fp, "invalid email address \"\(s)\"")
                continue
            }
            guard let dc = domains[parts.domain] else {
                self.add(fp, "unknown domain \"\(parts.domain)\": not in Domains")
                continue
            }
            if Self.separators(dc).isEmpty {
                self.add(
                    fp,
                    "domain \(parts.domain) has no localpart catchall separator, which FromIDLoginAddresses needs"
                )
                continue
            }
            let canonical = Self.canonical(parts.localpart, dc) + "@" + parts.domain
            if !own.contains(canonical) && !own.contains("@" + parts.domain) {
                self.add(fp, "address \(s) is not one of the account's destinations")
            }
        }

        self.checkRoutes(a.routes, p + ".Routes", transports: transports)
    }

    private mutating func checkDestination(_ dest: Destination, _ dp: String) {
        self.checkMailboxName(dest.mailbox, dp + ".Mailbox")
        if !dest.smtpError.isEmpty {
            self.checkReplyText(dest.smtpError, dp + ".SMTPError")
            if !dest.mailbox.isEmpty {
                self.add(dp + ".SMTPError", "cannot be set together with Mailbox")
            }
            if !dest.rulesets.isEmpty {
                self.add(dp + ".SMTPError", "cannot be set together with Rulesets")
            }
            let code = dest.smtpError.split(separator: " ", maxSplits: 1).first ?? ""
            if code != "421" && code != "550" {
                self.add(dp + ".SMTPError", "must start with code 421 or 550, optionally followed by a message")
            }
        }
        if !dest.messageAuthRequiredSMTPError.isEmpty {
            self.checkReplyText(dest.messageAuthRequiredSMTPError, dp + ".MessageAuthRequiredSMTPError")
        }
        for (i, rs) in dest.rulesets.enumerated() {
            let rp = dp + ".Rulesets[\(i)]"
            self.checkMailboxName(rs.mailbox, rp + ".Mailbox")
            if rs.mailbox.isEmpty {
                self.add(rp + ".Mailbox", "a mailbox is required")
            }
            var rules = 0
            if !rs.smtpMailFromRegexp.isEmpty {
                rules += 1
                self.checkRegexp(rs.smtpMailFromRegexp, rp + ".SMTPMailFromRegexp")
            }
            if !rs.msgFromRegexp.isEmpty {
                rules += 1
                self.checkRegexp(rs.msgFromRegexp, rp + ".MsgFromRegexp")
            }
            if !rs.verifiedDomain.isEmpty {
                rules += 1
                self.checkDomain(rs.verifiedDomain, rp + ".VerifiedDomain")
            }
            for (k, v) in rs.headersRegexp.sorted(by: { $0.key < $1.key }) {
                rules += 1
                let hp = rp + ".HeadersRegexp.\(k)"
                if k.lowercased() != k {
                    self.add(hp, "header name pattern \"\(k)\" must be lower case")
                }
                if v.lowercased() != v {
                    self.add(hp, "header value pattern \"\(v)\" must be lower case")
                }
                self.checkRegexp(k, hp)
                self.checkRegexp(v, hp)
            }
            if rules == 0 {
                self.add(
                    rp,
                    "a ruleset needs at least one of SMTPMailFromRegexp, MsgFromRegexp, VerifiedDomain, HeadersRegexp"
                )
            }
            if rs.isForward && !rs.listAllowDomain.isEmpty {
                self.add(rp + ".IsForward", "cannot be set together with ListAllowDomain")
            }
            if rs.isForward && (rs.smtpMailFromRegexp.isEmpty || rs.verifiedDomain.isEmpty) {
                self.add(rp + ".IsForward", "needs both SMTPMailFromRegexp and VerifiedDomain")
            }
            if !rs.listAllowDomain.isEmpty {
                self.checkDomain(rs.listAllowDomain, rp + ".ListAllowDomain")
            }
            self.checkMailboxName(rs.acceptRejectsToMailbox, rp + ".AcceptRejectsToMailbox")
            if rs.acceptRejectsToMailbox.lowercased() == "inbox" {
                self.add(rp + ".AcceptRejectsToMailbox", "cannot be Inbox")
            }
        }
    }

    // MARK: - Reporting addresses and aliases

    private mutating func checkReportingAddresses(_ c: DynamicConfig, addresses: inout [String: String]) {
        for (name, d) in c.domains.sorted(by: { $0.key < $1.key }) {
            let reports: [(String, String, String, String, String)] = [
                d.dmarc.map { ("DMARC", $0.localpart, $0.domain, $0.account, $0.mailbox) },
                d.tlsrpt.map { ("TLSRPT", $0.localpart, $0.domain, $0.account, $0.mailbox) },
            ].compactMap { $0 }
            for (kind, localpart, domain, account, mailbox) in reports {
                let p = "Domains.\(name).\(kind)"
                if c.accounts[account] == nil {
                    self.add(p + ".Account", "unknown account \"\(account)\": not in Accounts")
                }
                self.checkReportLocalpart(localpart, p + ".Localpart")
                self.checkMailboxName(mailbox, p + ".Mailbox")
                var addressDomain = name
                if !domain.isEmpty {
                    if c.domains[domain] == nil {
                        self.add(
                            p + ".Domain",
                            ConfigSyntax.domainProblem(domain).map { "invalid domain: \($0)" }
                                ?? "unknown domain \"\(domain)\": not in Domains"
                        )
                        continue
                    }
                    addressDomain = domain
                }
                let dc = c.domains[addressDomain]
                let lp = dc?.localpartCaseSensitive == true ? localpart : localpart.lowercased()
                addresses[lp + "@" + addressDomain] = account
            }
        }
    }

    private mutating func checkAliases(_ c: DynamicConfig, addresses: [String: String]) {
        var aliases: Set<String> = []
        for (name, d) in c.domains.sorted(by: { $0.key < $1.key }) {
            for (lp, alias) in d.aliases.sorted(by: { $0.key < $1.key }) {
                let p = "Domains.\(name).Aliases.\(lp)"
                if let problem = ConfigSyntax.localpartProblem(lp) {
                    self.add(p, "invalid alias: \(problem)")
                    continue
                }
                if let sep = Self.separators(d).first(where: { !$0.isEmpty && lp.contains($0) }) {
                    self.add(p, "alias contains the domain's catchall separator \"\(sep)\"")
                    continue
                }
                let address = Self.canonical(lp, d) + "@" + name
                if !aliases.insert(address).inserted {
                    self.add(p, "duplicate alias \(address)")
                    continue
                }
                if let account = addresses[address] {
                    self.add(p, "alias \(address) is already a destination of account \"\(account)\"")
                    continue
                }
                if alias.addresses.isEmpty {
                    self.add(p + ".Addresses", "an alias needs at least one address")
                }
                var seen: Set<String> = []
                for (i, member) in alias.addresses.enumerated() {
                    let mp = p + ".Addresses[\(i)]"
                    guard case .success(let parts) = ConfigSyntax.parseAddress(member) else {
                        self.add(mp, "invalid email address \"\(member)\"")
                        continue
                    }
                    let canonical = Self.canonical(parts.localpart, c.domains[parts.domain]) + "@" + parts.domain
                    if addresses[canonical] == nil {
                        self.add(mp, "address \(member) is not a destination of any account")
                        continue
                    }
                    if !seen.insert(canonical).inserted {
                        self.add(mp, "duplicate address \(member)")
                    }
                }
            }
        }
    }

    // MARK: - Web

    private mutating func checkWeb(_ c: DynamicConfig, haveWebserverListener: Bool) {
        if !haveWebserverListener {
            if !c.webDomainRedirects.isEmpty {
                self.add("WebDomainRedirects", "no listener in mox.conf has WebserverHTTP or WebserverHTTPS enabled")
            }
            if !c.webHandlers.isEmpty {
                self.add("WebHandlers", "no listener in mox.conf has WebserverHTTP or WebserverHTTPS enabled")
            }
        }
        for (from, to) in c.webDomainRedirects.sorted(by: { $0.key < $1.key }) {
            let p = "WebDomainRedirects.\(from)"
            self.checkDomain(from, p)
            self.checkDomain(to, p)
            if from == to {
                self.add(p, "cannot redirect domain \(from) to itself")
            }
        }
        for (i, wh) in c.webHandlers.enumerated() {
            let p = "WebHandlers[\(i)]"
            self.checkDomain(wh.domain, p + ".Domain")
            if !wh.pathRegexp.hasPrefix("^") {
                self.add(p + ".PathRegexp", "must start with ^")
            }
            self.checkRegexp(wh.pathRegexp, p + ".PathRegexp")
            var kinds = 0
            if let ws = wh.webStatic {
                kinds += 1
                if !ws.stripPrefix.isEmpty && !ws.stripPrefix.hasPrefix("/") {
                    self.add(p + ".WebStatic.StripPrefix", "must start with a slash")
                }
                self.checkHeaderNames(ws.responseHeaders, p + ".WebStatic.ResponseHeaders")
            }
            if let wr = wh.webRedirect {
                kinds += 1
                let rp = p + ".WebRedirect"
                if !wr.baseURL.isEmpty {
                    if let url = URL(string: wr.baseURL) {
                        if !url.path.isEmpty && url.path != "/" {
                            self.add(rp + ".BaseURL", "the URL must have an empty path, not \(url.path)")
                        }
                    } else {
                        self.add(rp + ".BaseURL", "invalid URL \"\(wr.baseURL)\"")
                    }
                }
                if !wr.origPathRegexp.isEmpty && !wr.replacePath.isEmpty {
                    self.checkRegexp(wr.origPathRegexp, rp + ".OrigPathRegexp")
                } else if !wr.origPathRegexp.isEmpty || !wr.replacePath.isEmpty {
                    self.add(rp, "OrigPathRegexp and ReplacePath must be set together")
                } else if wr.baseURL.isEmpty {
                    self.add(rp, "needs BaseURL, or OrigPathRegexp with ReplacePath")
                }
                if wr.statusCode != 0 && !(300..<400).contains(wr.statusCode) {
                    self.add(rp + ".StatusCode", "invalid redirect status code \(wr.statusCode): must be 3xx")
                }
            }
            if let wf = wh.webForward {
                kinds += 1
                if let url = URL(string: wf.url), url.scheme == "http" || url.scheme == "https", url.host != nil {
                } else {
                    self.add(p + ".WebForward.URL", "invalid URL \"\(wf.url)\": must be an http or https URL")
                }
                self.checkHeaderNames(wf.responseHeaders, p + ".WebForward.ResponseHeaders")
            }
            if let wi = wh.webInternal {
                kinds += 1
                if !wi.basePath.hasPrefix("/") || !wi.basePath.hasSuffix("/") {
                    self.add(p + ".WebInternal.BasePath", "base path \"\(wi.basePath)\" must start and end with /")
                }
                if !["admin", "account", "webmail", "webapi"].contains(wi.service) {
                    self.add(
                        p + ".WebInternal.Service",
                        "unknown service \"\(wi.service)\": must be admin, account, webmail or webapi"
                    )
                }
            }
            if kinds != 1 {
                self.add(
                    p,
                    "exactly one of WebStatic, WebRedirect, WebForward and WebInternal must be set, found \(kinds)"
                )
            }
        }
    }

    private mutating func checkHeaderNames(_ headers: [String: String], _ path: String) {
        for name in headers.keys.sorted() {
            let trimmed = String(
                name.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" })
                    .reversed()
            )
            if trimmed.isEmpty || trimmed != name {
                self.add(path + ".\(name)", "bad header name \"\(name)\"")
            }
        }
    }
}
