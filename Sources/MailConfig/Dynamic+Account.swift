// Accounts in domains.conf: users, their addresses, delivery rules and spam settings.
import Sconf

/// An account: a user with a password, addresses it receives mail for, and its own storage.
public struct AccountConfig: SconfRecord, Equatable, Sendable {
    public var outgoingWebhook: OutgoingWebhook? = nil
    public var incomingWebhook: IncomingWebhook? = nil
    public var fromIDLoginAddresses: [String] = []
    public var keepRetiredMessagePeriod = SconfDuration.sconfZero
    public var keepRetiredWebhookPeriod = SconfDuration.sconfZero
    public var loginDisabled = ""
    public var domain = ""
    public var description = ""
    public var fullName = ""
    public var destinations: [String: Destination] = [:]
    public var subjectPass = SubjectPass()
    public var quotaMessageSize: Int64 = 0
    public var rejectsMailbox = ""
    public var keepRejects = false
    public var introbox = ""
    public var automaticJunkFlags = AutomaticJunkFlags()
    public var junkFilter: JunkFilterConfig? = nil
    public var maxOutgoingMessagesPerDay = 0
    public var maxFirstTimeRecipientsPerDay = 0
    public var noFirstTimeSenderDelay = false
    public var noCustomPassword = false
    public var imapCapabilitiesDisabled: [String] = []
    public var routes: [Route] = []

    public init() {}

    public static let sconfFields: [SconfField<AccountConfig>] = [
        .init(
            "OutgoingWebhook",
            { $0.outgoingWebhook },
            { $0.outgoingWebhook = $1 },
            optional: true,
            doc: "Web hook called about events in the delivery of outgoing messages."
        ),
        .init(
            "IncomingWebhook",
            { $0.incomingWebhook },
            { $0.incomingWebhook = $1 },
            optional: true,
            doc: "Web hook called for each message delivered to the account over SMTP."
        ),
        .init(
            "FromIDLoginAddresses",
            { $0.fromIDLoginAddresses },
            { $0.fromIDLoginAddresses = $1 },
            optional: true,
            doc: "Login addresses for which outgoing messages get an envelope sender (SMTP MAIL FROM) with "
                + "a unique id after the localpart catchall separator, which must be configured for the "
                + "domain. Bounces and other delivery status notifications can then be matched to the "
                + "message and recipient they concern. Logging in with the plain address or with a "
                + "separator variant both work, so mail can be sent with or without such ids. Webmail and "
                + "the web API generate the id; SMTP submission uses the id given in MAIL FROM, or "
                + "generates one."
        ),
        .init(
            "KeepRetiredMessagePeriod",
            { $0.keepRetiredMessagePeriod },
            { $0.keepRetiredMessagePeriod = $1 },
            optional: true,
            doc: "How long to keep messages that left the queue (delivered or failed), e.g. 168h for a "
                + "week. They help maintain the suppression list, match incoming delivery status "
                + "notifications to sent messages, and debug. The removal time is set when a message "
                + "leaves the queue. Default: 0s, not kept."
        ),
        .init(
            "KeepRetiredWebhookPeriod",
            { $0.keepRetiredWebhookPeriod },
            { $0.keepRetiredWebhookPeriod = $1 },
            optional: true,
            doc: "How long to keep web hook calls that left the queue (delivered or failed), for debugging, "
                + "e.g. 168h. The removal time is set when a call leaves the queue. Default: 0s, not kept."
        ),
        .init(
            "LoginDisabled",
            { $0.loginDisabled },
            { $0.loginDisabled = $1 },
            optional: true,
            doc: "When not empty, every login to the account, over any protocol or web interface, is refused "
                + "with this message, e.g. during a migration. Mail for the account is still delivered."
        ),
        .init(
            "Domain",
            { $0.domain },
            { $0.domain = $1 },
            doc: "Default domain of the account. Deprecated use: a Destinations key that is only a "
                + "localpart gets this domain added."
        ),
        .init(
            "Description",
            { $0.description },
            { $0.description = $1 },
            optional: true,
            doc: "Free-form text, e.g. the person's name or other contact details."
        ),
        .init(
            "FullName",
            { $0.fullName },
            { $0.fullName = $1 },
            optional: true,
            doc: "Name shown in the From header of messages composed in webmail. Destinations can set their "
                + "own."
        ),
        .init(
            "Destinations",
            { $0.destinations },
            { $0.destinations = $1 },
            optional: true,
            doc: "Addresses the account receives mail for, keyed by email address (domain in Unicode form). "
                + "Each can also be used to log in with IMAP, SMTP and webmail; an account without "
                + "destinations cannot log in. A key of the form @domain is a catchall: it receives mail "
                + "for all addresses at the domain that are not configured elsewhere. Deprecated: a key "
                + "that is only a localpart is completed with the account's Domain."
        ),
        .init(
            "SubjectPass",
            { $0.subjectPass },
            { $0.subjectPass = $1 },
            optional: true,
            doc: "When set, messages that look somewhat like spam are refused with instructions to send "
                + "again with a signed token in the subject, which then lets them through the spam filter. "
                + "Messages with a clear spam signal, such as a bad reputation, are refused without a token."
        ),
        .init(
            "QuotaMessageSize",
            { $0.quotaMessageSize },
            { $0.quotaMessageSize = $1 },
            optional: true,
            doc: "Limit, in bytes, on the total size of the account's messages, overriding QuotaMessageSize "
                + "in mox.conf when not 0. A negative value means no limit, even when there is a default. "
                + "Adding a message that would exceed the limit fails."
        ),
        .init(
            "RejectsMailbox",
            { $0.rejectsMailbox },
            { $0.rejectsMailbox = $1 },
            optional: true,
            doc: "Mailbox, e.g. Rejects, where copies of messages refused as spam are kept for a while, for "
                + "when expected mail does not arrive. The message is still refused, so the sender may try "
                + "again or give up. Old messages are removed from it automatically: do not point it at a "
                + "mailbox whose messages you want to keep."
        ),
        .init(
            "KeepRejects",
            { $0.keepRejects },
            { $0.keepRejects = $1 },
            optional: true,
            doc: "Do not remove old messages from the RejectsMailbox, e.g. to train the spam filter later. "
                + "The mailbox can then grow without limit."
        ),
        .init(
            "Introbox",
            { $0.introbox },
            { $0.introbox = $1 },
            optional: true,
            doc: "Mailbox for messages that would go to Inbox but come from a From address without a "
                + "reputation yet, so mail from known correspondents stands out in Inbox. Must differ from "
                + "Inbox and RejectsMailbox. Moving a message from here to the mailbox it was meant for marks "
                + "it as not junk, so later messages from that sender go straight there. Make sure "
                + "NeutralMailboxRegexp matches it."
        ),
        .init(
            "AutomaticJunkFlags",
            { $0.automaticJunkFlags },
            { $0.automaticJunkFlags = $1 },
            optional: true,
            doc: "Set the $Junk and $NotJunk flags automatically from the mailbox a message is delivered, "
                + "moved or copied to. Mail clients rarely make these flags easy to set, but they can all "
                + "move messages."
        ),
        .init(
            "JunkFilter",
            { $0.junkFilter },
            { $0.junkFilter = $1 },
            optional: true,
            doc: "Content-based spam filter that learns which words occur in junk and in non-junk messages. "
                + "It works best when messages carry accurate junk flags, so keep the Trash: its messages "
                + "are useful training material."
        ),
        .init(
            "MaxOutgoingMessagesPerDay",
            { $0.maxOutgoingMessagesPerDay },
            { $0.maxOutgoingMessagesPerDay = $1 },
            optional: true,
            doc: "Most messages the account may send in any 24 hours, to limit the harm to recipients and "
                + "to the server's reputation when the account is compromised. Default: 1000."
        ),
        .init(
            "MaxFirstTimeRecipientsPerDay",
            { $0.maxFirstTimeRecipientsPerDay },
            { $0.maxFirstTimeRecipientsPerDay = $1 },
            optional: true,
            doc: "Most recipients the account may send to for the first time in any 24 hours, to limit the "
                + "harm when the account is compromised. Default: 200."
        ),
        .init(
            "NoFirstTimeSenderDelay",
            { $0.noFirstTimeSenderDelay },
            { $0.noFirstTimeSenderDelay = $1 },
            optional: true,
            doc: "Do not delay accepting incoming messages from first-time senders, e.g. for accounts that "
                + "send automated replies and want them to go out at once."
        ),
        .init(
            "NoCustomPassword",
            { $0.noCustomPassword },
            { $0.noCustomPassword = $1 },
            optional: true,
            doc: "The user may not choose a password, only have a random one generated, which prevents "
                + "weak and reused passwords. The admin can still set any password."
        ),
        .init(
            "IMAPCapabilitiesDisabled",
            { $0.imapCapabilitiesDisabled },
            { $0.imapCapabilitiesDisabled = $1 },
            optional: true,
            doc: "IMAP capabilities (in upper case) to turn off after login, for mail clients that handle "
                + "an extension badly."
        ),
        .init(
            "Routes",
            { $0.routes },
            { $0.routes = $1 },
            optional: true,
            doc: "Routes for outgoing messages from this account, evaluated before the domain's routes and "
                + "the global routes. The first matching route's transport is used; with no match, "
                + "messages are delivered directly."
        ),
    ]
}

/// Web hook for outgoing deliveries.
public struct OutgoingWebhook: SconfRecord, Equatable, Sendable {
    public var url = ""
    public var authorization = ""
    public var events: [String] = []

    public init() {}

    public static let sconfFields: [SconfField<OutgoingWebhook>] = [
        .init("URL", { $0.url }, { $0.url = $1 }, doc: "URL that events are POSTed to."),
        .init(
            "Authorization",
            { $0.authorization },
            { $0.authorization = $1 },
            optional: true,
            doc: "Value for the Authorization header of the requests, when not empty."
        ),
        .init(
            "Events",
            { $0.events },
            { $0.events = $1 },
            optional: true,
            doc: "Events to call the hook for, from delivered, suppressed, delayed, failed, relayed, "
                + "expanded, canceled and unrecognized. Default: all."
        ),
    ]
}

/// Web hook for incoming deliveries.
public struct IncomingWebhook: SconfRecord, Equatable, Sendable {
    public var url = ""
    public var authorization = ""

    public init() {}

    public static let sconfFields: [SconfField<IncomingWebhook>] = [
        .init("URL", { $0.url }, { $0.url = $1 }, doc: "URL that each message delivered over SMTP is POSTed to."),
        .init(
            "Authorization",
            { $0.authorization },
            { $0.authorization = $1 },
            optional: true,
            doc: "Value for the Authorization header of the requests, when not empty."
        ),
    ]
}

/// Settings for the signed subject token that lets likely spam through on a second try.
public struct SubjectPass: SconfRecord, Equatable, Sendable {
    public var period = SconfDuration.sconfZero

    public init() {}

    public static let sconfFields: [SconfField<SubjectPass>] = [
        .init(
            "Period",
            { $0.period },
            { $0.period = $1 },
            doc: "How long a generated token stays valid, e.g. 12h."
        )
    ]
}

/// Automatic $Junk/$NotJunk flags based on the mailbox a message is in.
public struct AutomaticJunkFlags: SconfRecord, Equatable, Sendable {
    public var enabled = false
    public var junkMailboxRegexp = ""
    public var neutralMailboxRegexp = ""
    public var notJunkMailboxRegexp = ""

    public init() {}

    public static let sconfFields: [SconfField<AutomaticJunkFlags>] = [
        .init(
            "Enabled",
            { $0.enabled },
            { $0.enabled = $1 },
            doc: "Set the flags from the regular expressions below, which are matched against the mailbox "
                + "name in lower case, in the order junk, neutral, not junk; the first match decides. When "
                + "two of the three are set, the third matches everything else."
        ),
        .init(
            "JunkMailboxRegexp",
            { $0.junkMailboxRegexp },
            { $0.junkMailboxRegexp = $1 },
            optional: true,
            doc: "Mailboxes whose messages are junk, e.g. ^(junk|spam)."
        ),
        .init(
            "NeutralMailboxRegexp",
            { $0.neutralMailboxRegexp },
            { $0.neutralMailboxRegexp = $1 },
            optional: true,
            doc: "Mailboxes whose messages get neither flag, e.g. "
                + "^(inbox|introbox|neutral|postmaster|dmarc|tlsrpt|rejects), perhaps with trash added."
        ),
        .init(
            "NotJunkMailboxRegexp",
            { $0.notJunkMailboxRegexp },
            { $0.notJunkMailboxRegexp = $1 },
            optional: true,
            doc: "Mailboxes whose messages are not junk, e.g. .* or empty."
        ),
    ]
}

/// The content-based junk filter of an account.
public struct JunkFilterConfig: SconfRecord, Equatable, Sendable {
    public var threshold: Double = 0
    public var params = Params()

    public init() {}

    public static let sconfFields: [SconfField<JunkFilterConfig>] = [
        .init(
            "Threshold",
            { $0.threshold },
            { $0.threshold = $1 },
            doc: "Spam probability, from 0 to 1, above which a message is refused, e.g. 0.95. A little "
                + "randomness is added per delivery attempt so spammers cannot easily find words that get "
                + "them past the filter."
        ),
        .init("Params", { $0.params }, { $0.params = $1 }, doc: "How words are counted and weighed."),
    ]

    /// Parameters of the word classifier.
    public struct Params: SconfRecord, Equatable, Sendable {
        public var onegrams = false
        public var twograms = false
        public var threegrams = false
        public var maxPower: Double = 0
        public var topWords = 0
        public var ignoreWords: Double = 0
        public var rareWords = 0

        public init() {}

        public static let sconfFields: [SconfField<Params>] = [
            .init(
                "Onegrams",
                { $0.onegrams },
                { $0.onegrams = $1 },
                optional: true,
                doc: "Learn the spam score of single words."
            ),
            .init(
                "Twograms",
                { $0.twograms },
                { $0.twograms = $1 },
                optional: true,
                doc: "Learn the spam score of each pair of consecutive words."
            ),
            .init(
                "Threegrams",
                { $0.threegrams },
                { $0.threegrams = $1 },
                optional: true,
                doc: "Learn the spam score of each three consecutive words."
            ),
            .init(
                "MaxPower",
                { $0.maxPower },
                { $0.maxPower = $1 },
                doc: "Cap on how far a word's score may be from neutral, e.g. 0.01: with 0.1, a word with "
                    + "score 0.99 counts as 0.9, and likewise for non-spam words."
            ),
            .init(
                "TopWords",
                { $0.topWords },
                { $0.topWords = $1 },
                doc: "How many of the most telling words (most spammy or most hammy) decide a message's "
                    + "score, e.g. 10."
            ),
            .init(
                "IgnoreWords",
                { $0.ignoreWords },
                { $0.ignoreWords = $1 },
                optional: true,
                doc: "Ignore words whose score is within this distance of 0.5, e.g. 0.1 ignores scores "
                    + "from 0.4 to 0.6."
            ),
            .init(
                "RareWords",
                { $0.rareWords },
                { $0.rareWords = $1 },
                optional: true,
                doc: "Words seen this many times or fewer count as rare and weigh less, e.g. 1 or 2."
            ),
        ]
    }
}

/// An address of an account and how its mail is delivered.
public struct Destination: SconfRecord, Equatable, Sendable {
    public var mailbox = ""
    public var rulesets: [Ruleset] = []
    public var smtpError = ""
    public var messageAuthRequiredSMTPError = ""
    public var fullName = ""

    public init() {}

    public static let sconfFields: [SconfField<Destination>] = [
        .init(
            "Mailbox",
            { $0.mailbox },
            { $0.mailbox = $1 },
            optional: true,
            doc: "Mailbox for messages that no ruleset matches. Default: Inbox."
        ),
        .init(
            "Rulesets",
            { $0.rulesets },
            { $0.rulesets = $1 },
            optional: true,
            doc: "Rules that sort incoming messages into mailboxes by properties of the message and the "
                + "SMTP transaction; the first matching ruleset decides. Mailing lists are best matched by "
                + "SMTP MAIL FROM, VerifiedDomain or the List-Id header (usually <listname.example.org> for "
                + "listname@example.org), each into a mailbox of its own."
        ),
        .init(
            "SMTPError",
            { $0.smtpError },
            { $0.smtpError = $1 },
            optional: true,
            doc: "When not empty, mail for this address is refused at SMTP RCPT TO with this response line, "
                + "e.g. to refuse some addresses covered by a catchall. The line starts with the code: 421 "
                + "(temporary local error) or 550 (no such user); a line with only the code gets a fitting "
                + "text. Senders retry after a 4xx code and give up after 5xx."
        ),
        .init(
            "MessageAuthRequiredSMTPError",
            { $0.messageAuthRequiredSMTPError },
            { $0.messageAuthRequiredSMTPError = $1 },
            optional: true,
            doc: "When not empty, incoming messages must pass a DMARC-like check of the domain in their From "
                + "header: an aligned SPF or DKIM pass, with strict or relaxed alignment as the domain's "
                + "DMARC policy says (relaxed without a policy). Other messages are refused at SMTP DATA with "
                + "a permanent error and this text. Useful for autoresponders that should only answer "
                + "authenticated senders."
        ),
        .init(
            "FullName",
            { $0.fullName },
            { $0.fullName = $1 },
            optional: true,
            doc: "Name shown in the From header of messages composed in webmail with this address."
        ),
    ]
}

/// A delivery rule: where matching messages go, and how spam checks treat them.
public struct Ruleset: SconfRecord, Equatable, Sendable {
    public var smtpMailFromRegexp = ""
    public var msgFromRegexp = ""
    public var verifiedDomain = ""
    public var headersRegexp: [String: String] = [:]
    public var isForward = false
    public var listAllowDomain = ""
    public var acceptRejectsToMailbox = ""
    public var mailbox = ""
    public var comment = ""

    public init() {}

    public static let sconfFields: [SconfField<Ruleset>] = [
        .init(
            "SMTPMailFromRegexp",
            { $0.smtpMailFromRegexp },
            { $0.smtpMailFromRegexp = $1 },
            optional: true,
            doc: "Match when this regular expression matches part of the envelope sender (SMTP MAIL FROM), "
                + "not the From header. E.g. ^user@example\\.org$."
        ),
        .init(
            "MsgFromRegexp",
            { $0.msgFromRegexp },
            { $0.msgFromRegexp = $1 },
            optional: true,
            doc: "Match when this regular expression matches part of the single address in the From header."
        ),
        .init(
            "VerifiedDomain",
            { $0.verifiedDomain },
            { $0.verifiedDomain = $1 },
            optional: true,
            doc: "Match when this domain, or a subdomain of it, was verified with SPF or DKIM."
        ),
        .init(
            "HeadersRegexp",
            { $0.headersRegexp },
            { $0.headersRegexp = $1 },
            optional: true,
            doc: "Match when for each entry, a header whose name matches the key has a value matching the "
                + "value; both are regular expressions matched against part of the lower-cased name and the "
                + "lower-cased, trimmed value. For a mailing list: key ^list-id$, value e.g. "
                + "<name\\.lists\\.example\\.org>."
        ),
        .init(
            "IsForward",
            { $0.isForward },
            { $0.isForward = $1 },
            optional: true,
            doc: "Mark matching messages as forwarded; this changes spam checks only, not matching. Requires "
                + "SMTPMailFromRegexp (matching the forwarder's envelope sender, e.g. "
                + "^user(|\\+.*)@forward\\.example$) and VerifiedDomain. Failing DMARC does not get such "
                + "messages refused, since forwarding breaks SPF alignment, and the forwarder's IP, EHLO "
                + "name, MAIL FROM domain and DKIM domain do not count towards future reputation decisions."
        ),
        .init(
            "ListAllowDomain",
            { $0.listAllowDomain },
            { $0.listAllowDomain = $1 },
            optional: true,
            doc: "Affects spam checks only, not matching: when this domain was verified with SPF or DKIM, "
                + "accept the message without further spam checks, such as the junk filter or a DMARC "
                + "reject policy. Meant for mailing lists that do their own filtering and do not rewrite "
                + "the From header, where refusing messages could get you unsubscribed."
        ),
        .init(
            "AcceptRejectsToMailbox",
            { $0.acceptRejectsToMailbox },
            { $0.acceptRejectsToMailbox = $1 },
            optional: true,
            doc: "Affects spam checks only, not matching: a message judged to be spam is accepted into this "
                + "mailbox instead of being refused. The mailbox is not cleaned up automatically, unless it "
                + "is the account's RejectsMailbox."
        ),
        .init("Mailbox", { $0.mailbox }, { $0.mailbox = $1 }, doc: "Mailbox to deliver matching messages to."),
        .init("Comment", { $0.comment }, { $0.comment = $1 }, optional: true, doc: "Free-form note about the ruleset."),
    ]
}
