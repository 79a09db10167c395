// Which account and mailbox an address delivers to, from domains.conf (and mox.conf's
// postmaster): the lookup behind RCPT TO on the SMTP listener and local submissions.

import MailAddress
import MailConfig

/// Where mail for an address goes.
public struct LocalDestination: Equatable, Sendable {
    public var account: String
    /// The destination's mailbox; empty means Inbox.
    public var mailbox: String
    /// The configured address that matched (after dropping a catchall suffix), or `@domain`.
    public var canonicalAddress: String
    /// A configured SMTPError: mail to this destination is refused with it.
    public var smtpError: String
}

public enum RecipientLookup: Equatable, Sendable {
    case local(LocalDestination)
    /// The domain is not one of ours.
    case unknownDomain
    /// The domain is ours but the address has no destination.
    case unknownAddress
    /// The domain is configured but disabled: a temporary refusal.
    case domainDisabled
}

extension DynamicConfig {
    /// Resolves an address: the localpart loses everything from the first catchall separator of
    /// its domain on, is lowercased unless the domain is case-sensitive, and is looked up among
    /// the accounts' destinations; then the domain's catchall address (`@domain`); then
    /// postmaster (in any case, RFC 5321 4.5.1) goes to mox.conf's postmaster account.
    public func lookup(
        _ address: Address,
        postmaster: Postmaster
    ) -> RecipientLookup {
        let domainName = address.domain.ascii
        guard let domain = self.domains[domainName] else {
            return .unknownDomain
        }
        if domain.disabled {
            return .domainDisabled
        }
        var localpart = address.localpart.value
        for separator in domain.catchallSeparators {
            if let cut = localpart.firstRange(of: separator) {
                localpart = String(localpart[..<cut.lowerBound])
            }
        }
        if !domain.localpartCaseSensitive {
            localpart = localpart.lowercased()
        }
        let wanted = localpart + "@" + domainName
        let catchall = "@" + domainName
        var catchallMatch: LocalDestination?
        for (accountName, account) in self.accounts {
            for (key, destination) in account.destinations {
                let full = key.contains("@") ? key : key + "@" + account.domain
                let normalized = Self.normalizedDestination(full, caseSensitive: domain.localpartCaseSensitive)
                let found = LocalDestination(
                    account: accountName,
                    mailbox: destination.mailbox,
                    canonicalAddress: normalized,
                    smtpError: destination.smtpError
                )
                if normalized == wanted {
                    return .local(found)
                }
                if normalized == catchall {
                    catchallMatch = found
                }
            }
        }
        if let catchallMatch {
            return .local(catchallMatch)
        }
        if localpart.lowercased() == "postmaster" && !postmaster.account.isEmpty {
            return .local(
                LocalDestination(
                    account: postmaster.account,
                    mailbox: postmaster.mailbox,
                    canonicalAddress: "postmaster@" + domainName,
                    smtpError: ""
                )
            )
        }
        return .unknownAddress
    }

    /// The addresses an account may send as (its destinations, catchall domains allowing any
    /// localpart of their domain), for checking MAIL FROM and From on submission.
    public func accountMayUse(_ account: String, _ address: Address) -> Bool {
        guard self.accounts[account] != nil,
            case .local(let destination) = self.lookup(address, postmaster: Postmaster())
        else {
            return false
        }
        return destination.account == account
    }

    private static func normalizedDestination(_ address: String, caseSensitive: Bool) -> String {
        guard let at = address.lastIndex(of: "@") else { return address }
        let localpart = String(address[..<at])
        let domain = String(address[address.index(after: at)...]).lowercased()
        let asciiDomain = Domain.parse(domain)?.ascii ?? domain
        return (caseSensitive ? localpart : localpart.lowercased()) + "@" + asciiDomain
    }
}
