import GRDB

/// An account's own preferences, kept in its database (not in domains.conf): the settings mox's
/// webmail offers, with mox's defaults.
public struct AccountSettings: Hashable, Sendable {
    /// How a reply quotes the original message.
    public enum Quoting: String, Hashable, Sendable, CaseIterable {
        /// Below the quote when text was selected, above it otherwise.
        case `default` = ""
        case bottom
        case top
    }

    /// Added below new messages.
    public var signature = ""
    public var quoting = Quoting.default
    /// Show, under each address field, whether the recipient's domain supports STARTTLS, DNSSEC,
    /// DANE, MTA-STS and REQUIRETLS.
    public var showAddressSecurity = false
    /// Show a message's HTML part instead of its text by default.
    public var showHTML = false
    /// Do not show keyboard shortcut hints after mouse use.
    public var noShowShortcuts = false
    /// More header fields to show with a message, e.g. Delivered-To or User-Agent.
    public var showHeaders: [String] = []

    public init() {}
}

extension Account {
    /// The account's settings; the defaults when they were never changed.
    public func settings() async throws(StoreError) -> AccountSettings {
        try await self.read("reading settings") { db in
            var settings = AccountSettings()
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM settings WHERE id = 1") else {
                return settings
            }
            settings.signature = row["signature"]
            settings.quoting = AccountSettings.Quoting(rawValue: row["quoting"]) ?? .default
            settings.showAddressSecurity = row["showAddressSecurity"]
            settings.showHTML = row["showHTML"]
            settings.noShowShortcuts = row["noShowShortcuts"]
            let headers: String = row["showHeaders"]
            settings.showHeaders = headers.split(separator: "\n").map(String.init)
            return settings
        }
    }

    /// Replaces the account's settings. Header names cannot contain line breaks (they are not
    /// valid in header field names anyway, RFC 5322 2.2).
    public func setSettings(_ settings: AccountSettings) async throws(StoreError) {
        let account = self.name
        if settings.showHeaders.contains(where: { $0.isEmpty || $0.contains(where: \.isNewline) || $0.contains(":") }) {
            throw StoreError(.invalidName, account: account, "invalid header field name in settings")
        }
        try await self.write("saving settings") { db, _ in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO settings
                    (id, signature, quoting, showAddressSecurity, showHTML, noShowShortcuts, showHeaders)
                    VALUES (1, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    settings.signature, settings.quoting.rawValue, settings.showAddressSecurity, settings.showHTML,
                    settings.noShowShortcuts, settings.showHeaders.joined(separator: "\n"),
                ]
            )
        }
    }
}
