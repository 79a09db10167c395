import ArgumentParser

public struct QueueCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Manage the outgoing queue of the running server: list, hold, reschedule, fail or drop messages.",
        discussion: """
            Every subcommand talks to the running server (mox serve or localserve) over the control \
            socket in the data directory. Messages are selected with the filter flags; without any, \
            a command applies to all messages in the queue.
            """,
        subcommands: [
            QueueList.self, QueueHold.self, QueueUnhold.self, QueueSchedule.self, QueueTransport.self,
            QueueRequireTLS.self, QueueFail.self, QueueDrop.self, QueueDump.self, QueueHoldRules.self,
            QueueRetired.self, QueueSuppress.self,
        ]
    )

    public init() {}
}

/// The flags that select queued messages, as mox names them.
public struct QueueFilterOptions: ParsableArguments {
    @Option(name: .customLong("ids", withSingleDash: true), help: ArgumentHelp("Comma-separated message ids.", valueName: "ids"))
    public var ids: String?

    @Option(name: .customShort("n"), help: "At most this many messages.")
    public var limit: Int?

    @Option(name: .customLong("account", withSingleDash: true), help: "Messages sent from this account.")
    public var account: String?

    @Option(name: .customLong("from", withSingleDash: true), help: "Messages whose sender address contains this text.")
    public var from: String?

    @Option(name: .customLong("to", withSingleDash: true), help: "Messages whose recipient address contains this text.")
    public var to: String?

    @Option(
        name: .customLong("nextattempt", withSingleDash: true),
        help: ArgumentHelp("Next attempt relative to now, e.g. \"<1h\" or \">-30m\".", valueName: "<|>duration")
    )
    public var nextAttempt: String?

    @Option(name: .customLong("transport", withSingleDash: true), help: "Messages with this transport set (\"\" for none).")
    public var transport: String?

    @Option(name: .customLong("hold", withSingleDash: true), help: ArgumentHelp("Messages on hold (true) or not (false).", valueName: "true|false"))
    public var hold: String?

    public init() {}
}

public struct QueueList: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the messages in the queue, with their next and last attempt and last error.",
        discussion: "One line per message and recipient: id, time queued, sender, recipient, time until the next attempt (negative when due), time since the last attempt, and the last error."
    )
    @OptionGroup public var filter: QueueFilterOptions
    @Option(name: .customLong("sort", withSingleDash: true), help: ArgumentHelp("Sort by nextattempt (default) or queued.", valueName: "field"))
    public var sort: String?
    @Flag(name: .customLong("asc", withSingleDash: true), help: "Oldest first instead of newest first.")
    public var ascending = false
    public init() {}
}

public struct QueueHold: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "hold", abstract: "Put matching messages on hold: no delivery attempts until they are released."
    )
    @OptionGroup public var filter: QueueFilterOptions
    public init() {}
}

public struct QueueUnhold: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "unhold", abstract: "Release matching messages from hold; due ones are attempted at once."
    )
    @OptionGroup public var filter: QueueFilterOptions
    public init() {}
}

public struct QueueSchedule: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Change the next delivery attempt of matching messages.",
        discussion: "The duration (e.g. 30m, -1h, 0s) is added to each message's next attempt, or with -now to the current time: `mox queue schedule -now 0s` attempts delivery at once."
    )
    @OptionGroup public var filter: QueueFilterOptions
    @Flag(name: .customLong("now", withSingleDash: true), help: "Relative to now instead of to the current next attempt.")
    public var fromNow = false
    @Argument(help: ArgumentHelp("Duration such as 0s, 30m or -2h.", valueName: "duration"))
    public var duration: String
    public init() {}
}

public struct QueueTransport: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "transport",
        abstract: "Set the transport (from mox.conf's Transports) for matching messages; \"\" returns them to the routes."
    )
    @OptionGroup public var filter: QueueFilterOptions
    @Argument(help: ArgumentHelp("Transport name.", valueName: "transport"))
    public var transport: String
    public init() {}
}

public struct QueueRequireTLS: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "requiretls",
        abstract: "Set the TLS requirement of matching messages: yes (REQUIRETLS, RFC 8689), no (TLS-Required: No), or default (the recipient domain's policy)."
    )
    @OptionGroup public var filter: QueueFilterOptions
    @Argument(help: ArgumentHelp("yes, no or default.", valueName: "yes|no|default"))
    public var value: String
    public init() {}
}

public struct QueueFail: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fail", abstract: "Remove matching messages from the queue and send their senders a failure DSN."
    )
    @OptionGroup public var filter: QueueFilterOptions
    public init() {}
}

public struct QueueDrop: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "drop", abstract: "Remove matching messages from the queue without a DSN."
    )
    @OptionGroup public var filter: QueueFilterOptions
    public init() {}
}

public struct QueueDump: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "dump", abstract: "Print a queued message as it will be sent (its header prefix and the message)."
    )
    @Argument(help: ArgumentHelp("Message id.", valueName: "id"))
    public var id: String
    public init() {}
}

public struct QueueHoldRules: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "holdrules",
        abstract: "Rules that put newly queued messages on hold (by account, sender domain, recipient domain, or all).",
        subcommands: [QueueHoldRulesList.self, QueueHoldRulesAdd.self, QueueHoldRulesRemove.self]
    )
    public init() {}
}

public struct QueueHoldRulesList: MoxCommand {
    public static let configuration = CommandConfiguration(commandName: "list", abstract: "List the hold rules.")
    public init() {}
}

public struct QueueHoldRulesAdd: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a hold rule; messages already queued that match it are put on hold too.",
        discussion: "A message matches when every field given matches; with none given, every message matches (the queue is paused)."
    )
    @Option(name: .customLong("account", withSingleDash: true), help: "Sending account.")
    public var account = ""
    @Option(name: .customLong("senderdom", withSingleDash: true), help: "Sender domain.")
    public var senderDomain = ""
    @Option(name: .customLong("recipientdom", withSingleDash: true), help: "Recipient domain.")
    public var recipientDomain = ""
    public init() {}
}

public struct QueueHoldRulesRemove: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove a hold rule; messages on hold stay on hold."
    )
    @Argument(help: ArgumentHelp("Rule id, from holdrules list.", valueName: "ruleid"))
    public var id: String
    public init() {}
}

public struct QueueRetired: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "retired",
        abstract: "Delivered and failed messages, kept for the account's KeepRetiredMessagePeriod.",
        subcommands: [QueueRetiredList.self, QueueRetiredPrint.self]
    )
    public init() {}
}

public struct QueueRetiredList: MoxCommand {
    public static let configuration = CommandConfiguration(commandName: "list", abstract: "List retired messages, newest first.")
    @OptionGroup public var filter: QueueFilterOptions
    public init() {}
}

public struct QueueRetiredPrint: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "print", abstract: "Print a retired message's record, with every delivery attempt, as JSON."
    )
    @Argument(help: ArgumentHelp("Message id.", valueName: "id"))
    public var id: String
    public init() {}
}

public struct QueueSuppress: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "suppress",
        abstract: "Per-account suppression lists: addresses the account does not send to.",
        discussion: "Entries are added automatically when a recipient's server refuses an address permanently, and by hand here; submission to a listed address is refused.",
        subcommands: [QueueSuppressList.self, QueueSuppressAdd.self, QueueSuppressRemove.self, QueueSuppressLookup.self]
    )
    public init() {}
}

public struct QueueSuppressList: MoxCommand {
    public static let configuration = CommandConfiguration(commandName: "list", abstract: "List suppression entries.")
    @Option(name: .customLong("account", withSingleDash: true), help: "Only this account's entries.")
    public var account = ""
    public init() {}
}

public struct QueueSuppressAdd: MoxCommand {
    public static let configuration = CommandConfiguration(commandName: "add", abstract: "Add an address to an account's suppression list.")
    @Argument(help: ArgumentHelp("Account.", valueName: "account"))
    public var account: String
    @Argument(help: ArgumentHelp("Address.", valueName: "address"))
    public var address: String
    public init() {}
}

public struct QueueSuppressRemove: MoxCommand {
    public static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove an address from an account's suppression list.")
    @Argument(help: ArgumentHelp("Account.", valueName: "account"))
    public var account: String
    @Argument(help: ArgumentHelp("Address.", valueName: "address"))
    public var address: String
    public init() {}
}

public struct QueueSuppressLookup: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lookup", abstract: "Check whether an address is on a suppression list (of one account, or any)."
    )
    @Option(name: .customLong("account", withSingleDash: true), help: "Only this account's list.")
    public var account = ""
    @Argument(help: ArgumentHelp("Address.", valueName: "address"))
    public var address: String
    public init() {}
}
