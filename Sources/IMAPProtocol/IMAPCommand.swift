/// A parsed command: its tag and what it asks for.
/// - SeeAlso: RFC 9051 6 (client commands), RFC 9051 9 "command"
public struct IMAPCommand: Hashable, Sendable {
    public var tag: String
    public var kind: IMAPCommandKind

    public init(tag: String, _ kind: IMAPCommandKind) {
        self.tag = tag
        self.kind = kind
    }
}

/// The commands the parser knows. Mailbox names are as sent (modified UTF-7 decoded when the
/// parser options ask for it), with "INBOX" in any case normalized to "INBOX" (RFC 9051 5.1).
public enum IMAPCommandKind: Hashable, Sendable {
    // RFC 9051 6.1: any state.
    case capability
    case noop
    case logout
    // RFC 9051 6.2: not authenticated.
    case starttls
    /// RFC 9051 6.2.2, RFC 4959: the initial response is base64 text, or "=" for an empty one.
    case authenticate(mechanism: String, initialResponse: String?)
    case login(username: String, password: String)
    // RFC 9051 6.3: authenticated.
    /// RFC 5161 3.1
    case enable([String])
    case select(mailbox: String, parameters: [IMAPSelectParameter])
    case examine(mailbox: String, parameters: [IMAPSelectParameter])
    /// RFC 6154 3: CREATE ... (USE (\Drafts)).
    case create(mailbox: String, specialUse: [String])
    case delete(mailbox: String)
    case rename(from: String, to: String)
    case subscribe(mailbox: String)
    case unsubscribe(mailbox: String)
    case list(IMAPListCommand)
    /// RFC 3501 6.3.9, kept for IMAP4rev1 clients.
    case lsub(reference: String, pattern: String)
    case namespace
    case status(mailbox: String, attributes: [IMAPStatusAttribute])
    /// RFC 3502 (MULTIAPPEND) allows several messages in one command.
    case append(mailbox: String, messages: [IMAPAppendMessage])
    case idle
    /// RFC 5464 4.2; mailbox "" is the server.
    case getMetadata(mailbox: String, options: IMAPMetadataOptions, entries: [String])
    /// RFC 5464 4.3; a nil value removes the entry.
    case setMetadata(mailbox: String, entries: [IMAPMetadataEntry])
    /// RFC 2971
    case id([IMAPIDParameter]?)
    /// RFC 9208 4.2, 4.3
    case getQuota(root: String)
    case getQuotaRoot(mailbox: String)
    /// RFC 4978 3
    case compress(mechanism: String)
    // RFC 9051 6.4: selected.
    case check
    case close
    case unselect
    case expunge
    /// RFC 9051 6.4.9 (UIDPLUS in RFC 3501 times)
    case uidExpunge(IMAPSequenceSet)
    case search(IMAPSearchCommand)
    /// RFC 7377 2: SEARCH in several mailboxes; no sources means the selected mailbox. The
    /// search command's `uid` is always false.
    case esearch(sources: [IMAPSearchSource], IMAPSearchCommand)
    /// RFC 5465 3: nil for NOTIFY NONE.
    case notify(IMAPNotifyCommand?)
    case fetch(IMAPFetchCommand)
    case store(IMAPStoreCommand)
    case copy(uid: Bool, set: IMAPSequenceSet, mailbox: String)
    case move(uid: Bool, set: IMAPSequenceSet, mailbox: String)
    /// RFC 8508 3: replace message `number` (a UID when `uid`) by a message appended to `mailbox`.
    case replace(uid: Bool, number: UInt32, mailbox: String, message: IMAPAppendMessage)
    /// A command the parser does not know; answer "BAD unknown command".
    case unknown(String)
}

/// RFC 7162 3.1.8 (CONDSTORE), 3.2.5 (QRESYNC): SELECT/EXAMINE parameters.
public enum IMAPSelectParameter: Hashable, Sendable {
    case condstore
    case qresync(
        uidValidity: UInt32,
        modSeq: UInt64,
        knownUIDs: IMAPSequenceSet?,
        sequenceMatch: IMAPQResyncSequenceMatch?
    )
    /// An unknown parameter, with its value as text when it was simple.
    case other(String)
}

/// RFC 7162 3.2.5: known message sequence numbers and their UIDs.
public struct IMAPQResyncSequenceMatch: Hashable, Sendable {
    public var sequenceNumbers: IMAPSequenceSet
    public var uids: IMAPSequenceSet

    public init(sequenceNumbers: IMAPSequenceSet, uids: IMAPSequenceSet) {
        self.sequenceNumbers = sequenceNumbers
        self.uids = uids
    }
}

/// LIST, with the RFC 5258 (LIST-EXTENDED) options.
/// - SeeAlso: RFC 9051 6.3.9
public struct IMAPListCommand: Hashable, Sendable {
    /// RFC 5258 3.1: SUBSCRIBED, REMOTE, RECURSIVEMATCH, SPECIAL-USE, upper case.
    public var selectionOptions: [String]
    public var reference: String
    public var patterns: [String]
    public var returnOptions: [IMAPListReturnOption]

    public init(
        selectionOptions: [String] = [],
        reference: String,
        patterns: [String],
        returnOptions: [IMAPListReturnOption] = []
    ) {
        self.selectionOptions = selectionOptions
        self.reference = reference
        self.patterns = patterns
        self.returnOptions = returnOptions
    }
}

/// RFC 5258 3.2, RFC 5819 (STATUS), RFC 6154 (SPECIAL-USE).
public enum IMAPListReturnOption: Hashable, Sendable {
    case subscribed
    case children
    case specialUse
    case status([IMAPStatusAttribute])
    case other(String)
}

/// RFC 9051 6.3.11, RFC 7162 (HIGHESTMODSEQ), RFC 7889 (APPENDLIMIT), RFC 3501 (RECENT),
/// RFC 9208 (DELETED-STORAGE).
public enum IMAPStatusAttribute: String, Hashable, Sendable, CaseIterable {
    case messages = "MESSAGES"
    case uidNext = "UIDNEXT"
    case uidValidity = "UIDVALIDITY"
    case unseen = "UNSEEN"
    case deleted = "DELETED"
    case size = "SIZE"
    case recent = "RECENT"
    case highestModSeq = "HIGHESTMODSEQ"
    case appendLimit = "APPENDLIMIT"
    case deletedStorage = "DELETED-STORAGE"
}

/// One message of APPEND.
/// - SeeAlso: RFC 9051 6.3.12, RFC 3516 4.4 (literal8 with BINARY)
public struct IMAPAppendMessage: Hashable, Sendable {
    public var flags: [String]
    public var internalDate: IMAPDateTime?
    public var data: [UInt8]
    /// Sent as literal8 (`~{n}`): may hold NUL bytes.
    public var binary: Bool
    /// Sent as "UTF8 (~{n})" (RFC 6855 4): a message with UTF-8 headers.
    public var utf8: Bool
    /// The message was too large to keep in the frame: it is the `streamed`-th literal handed
    /// out as it arrived (counting from 0 in the command), and `data` is empty.
    public var streamed: Int?

    public init(
        flags: [String] = [],
        internalDate: IMAPDateTime? = nil,
        data: [UInt8],
        binary: Bool = false,
        utf8: Bool = false,
        streamed: Int? = nil
    ) {
        self.flags = flags
        self.internalDate = internalDate
        self.data = data
        self.binary = binary
        self.utf8 = utf8
        self.streamed = streamed
    }
}

/// RFC 2971 3.1: a field of ID.
public struct IMAPIDParameter: Hashable, Sendable {
    public var key: String
    public var value: String?

    public init(_ key: String, _ value: String?) {
        self.key = key
        self.value = value
    }
}

/// RFC 9051 9 "date": a day without time, for SEARCH.
public struct IMAPDate: Hashable, Sendable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// RFC 9051 9 "date-text"; a month outside 1...12 is clamped rather than trapping.
    public var description: String { "\(self.day)-\(Self.months[max(0, min(11, self.month - 1))])-\(self.year)" }
}

/// RFC 9051 9 "date-time": APPEND's internal date, e.g. "17-Jul-1996 02:44:25 -0700".
public struct IMAPDateTime: Hashable, Sendable {
    public var date: IMAPDate
    public var hour: Int
    public var minute: Int
    public var second: Int
    /// Offset from UTC in minutes, e.g. -420 for "-0700".
    public var zoneMinutes: Int

    public init(date: IMAPDate, hour: Int, minute: Int, second: Int, zoneMinutes: Int) {
        self.date = date
        self.hour = hour
        self.minute = minute
        self.second = second
        self.zoneMinutes = zoneMinutes
    }
}

/// SEARCH and UID SEARCH.
/// - SeeAlso: RFC 9051 6.4.4, RFC 4731 (ESEARCH return options), RFC 5182 (SAVE)
public struct IMAPSearchCommand: Hashable, Sendable {
    public var uid: Bool
    /// Nil without RETURN (an IMAP4rev1 SEARCH response); empty for "RETURN ()" (means ALL).
    public var returnOptions: [IMAPSearchReturnOption]?
    public var charset: String?
    /// The keys, and-ed: one `.and` unless there was a single key.
    public var key: IMAPSearchKey

    public init(uid: Bool, returnOptions: [IMAPSearchReturnOption]? = nil, charset: String? = nil, key: IMAPSearchKey) {
        self.uid = uid
        self.returnOptions = returnOptions
        self.charset = charset
        self.key = key
    }
}

public enum IMAPSearchReturnOption: String, Hashable, Sendable {
    case min = "MIN"
    case max = "MAX"
    case all = "ALL"
    case count = "COUNT"
    case save = "SAVE"
}

/// RFC 9051 9 "search-key", with RFC 7162 MODSEQ, RFC 5032 OLDER/YOUNGER and RFC 8514 SAVED*.
public indirect enum IMAPSearchKey: Hashable, Sendable {
    case all
    case answered, deleted, draft, flagged, seen
    case unanswered, undeleted, undraft, unflagged, unseen
    /// RFC 3501: NEW, OLD, RECENT (\Recent is gone in IMAP4rev2 but old clients send them).
    case new, old, recent
    case keyword(String)
    case unkeyword(String)
    case bcc(String)
    case cc(String)
    case from(String)
    case to(String)
    case subject(String)
    case body(String)
    case text(String)
    case header(field: String, value: String)
    case before(IMAPDate)
    case on(IMAPDate)
    case since(IMAPDate)
    case sentBefore(IMAPDate)
    case sentOn(IMAPDate)
    case sentSince(IMAPDate)
    case savedBefore(IMAPDate)
    case savedOn(IMAPDate)
    case savedSince(IMAPDate)
    case savedDateSupported
    case larger(UInt64)
    case smaller(UInt64)
    case older(UInt32)
    case younger(UInt32)
    case uid(IMAPSequenceSet)
    case sequenceSet(IMAPSequenceSet)
    /// RFC 7162 3.1.5: entry name and type are accepted and ignored.
    case modSeq(UInt64)
    case not(IMAPSearchKey)
    case or(IMAPSearchKey, IMAPSearchKey)
    case and([IMAPSearchKey])
}

/// FETCH and UID FETCH.
/// - SeeAlso: RFC 9051 6.4.5, RFC 7162 3.1.4 (CHANGEDSINCE), 3.2.6 (VANISHED)
public struct IMAPFetchCommand: Hashable, Sendable {
    public var uid: Bool
    public var set: IMAPSequenceSet
    /// Macros (ALL, FAST, FULL) are expanded.
    public var attributes: [IMAPFetchAttribute]
    public var changedSince: UInt64?
    public var vanished: Bool

    public init(
        uid: Bool,
        set: IMAPSequenceSet,
        attributes: [IMAPFetchAttribute],
        changedSince: UInt64? = nil,
        vanished: Bool = false
    ) {
        self.uid = uid
        self.set = set
        self.attributes = attributes
        self.changedSince = changedSince
        self.vanished = vanished
    }
}

/// RFC 9051 9 "fetch-att".
public enum IMAPFetchAttribute: Hashable, Sendable {
    case envelope, flags, internalDate, rfc822Size, uid, modSeq, saveDate
    case rfc822, rfc822Header, rfc822Text
    /// BODY without section: the non-extensible BODYSTRUCTURE.
    case body
    case bodyStructure
    /// RFC 8970: PREVIEW, PREVIEW (LAZY).
    case preview(lazy: Bool)
    case bodySection(IMAPSection, partial: IMAPPartial?, peek: Bool)
    /// RFC 3516 4.2
    case binary(part: [UInt32], partial: IMAPPartial?, peek: Bool)
    case binarySize(part: [UInt32])
}

/// RFC 9051 9 "section": a part path and what of it.
public struct IMAPSection: Hashable, Sendable {
    /// "1.2.3" as [1, 2, 3]; empty for the whole message.
    public var part: [UInt32]
    public var text: IMAPSectionText?

    public init(part: [UInt32] = [], text: IMAPSectionText? = nil) {
        self.part = part
        self.text = text
    }
}

public enum IMAPSectionText: Hashable, Sendable {
    case header
    case headerFields([String])
    case headerFieldsNot([String])
    case text
    /// Only after a part number.
    case mime
}

/// RFC 9051 9 "partial": "<offset.length>".
public struct IMAPPartial: Hashable, Sendable {
    public var offset: UInt32
    public var length: UInt32

    public init(offset: UInt32, length: UInt32) {
        self.offset = offset
        self.length = length
    }
}

/// STORE and UID STORE.
/// - SeeAlso: RFC 9051 6.4.6, RFC 7162 3.1.3 (UNCHANGEDSINCE)
public struct IMAPStoreCommand: Hashable, Sendable {
    public enum Mode: Hashable, Sendable {
        case replace, add, remove
    }

    public var uid: Bool
    public var set: IMAPSequenceSet
    public var unchangedSince: UInt64?
    public var mode: Mode
    public var silent: Bool
    public var flags: [String]

    public init(
        uid: Bool,
        set: IMAPSequenceSet,
        unchangedSince: UInt64? = nil,
        mode: Mode,
        silent: Bool,
        flags: [String]
    ) {
        self.uid = uid
        self.set = set
        self.unchangedSince = unchangedSince
        self.mode = mode
        self.silent = silent
        self.flags = flags
    }
}

/// RFC 5464 4.2.1, 4.2.2: GETMETADATA options.
public struct IMAPMetadataOptions: Hashable, Sendable {
    public enum Depth: Hashable, Sendable {
        case zero, one, infinity
    }

    public var maxSize: UInt32?
    public var depth: Depth?

    public init(maxSize: UInt32? = nil, depth: Depth? = nil) {
        self.maxSize = maxSize
        self.depth = depth
    }
}

/// RFC 5464 4.3: an entry name, and its new value (nil to remove it).
public struct IMAPMetadataEntry: Hashable, Sendable {
    public var name: String
    public var value: [UInt8]?

    public init(name: String, value: [UInt8]?) {
        self.name = name
        self.value = value
    }
}

/// RFC 7377 2, RFC 5465 8 "filter-mailboxes": where ESEARCH looks and NOTIFY watches.
public enum IMAPSearchSource: Hashable, Sendable {
    case selected
    case selectedDelayed
    case inboxes
    case personal
    case subscribed
    case subtree([String])
    case subtreeOne([String])
    case mailboxes([String])
}

/// RFC 5465 3.1: NOTIFY SET.
public struct IMAPNotifyCommand: Hashable, Sendable {
    /// "SET STATUS": send STATUS for the watched mailboxes right away.
    public var status: Bool
    public var groups: [IMAPNotifyEventGroup]

    public init(status: Bool, groups: [IMAPNotifyEventGroup]) {
        self.status = status
        self.groups = groups
    }
}

/// RFC 5465 8 "event-group"; no events means "NONE".
public struct IMAPNotifyEventGroup: Hashable, Sendable {
    public var source: IMAPSearchSource
    public var events: [IMAPNotifyEvent]

    public init(source: IMAPSearchSource, events: [IMAPNotifyEvent]) {
        self.source = source
        self.events = events
    }
}

/// RFC 5465 5: the events a client can ask for.
public enum IMAPNotifyEvent: Hashable, Sendable {
    /// With the fetch attributes to send for new messages in the selected mailbox.
    case messageNew([IMAPFetchAttribute])
    case messageExpunge
    case flagChange
    case annotationChange
    case mailboxName
    case subscriptionChange
    case mailboxMetadataChange
    case serverMetadataChange
    /// RFC 5465 8 "event-ext": an event the parser does not know, as sent.
    case other(String)
}
