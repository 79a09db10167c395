import ArgumentParser

// MARK: - mox setaccountpassword

public struct SetAccountPassword: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "setaccountpassword",
        abstract: "Set a new password for an account.",
        discussion: """
            On a terminal the password is asked for twice, without echo; otherwise the first line of \
            standard input is the password (`echo secret | mox setaccountpassword mjl`). The password \
            itself is not stored: the secrets derived from it are kept in the account's database, for \
            SCRAM-SHA-256 and SCRAM-SHA-1 authentication and a slow salted hash for plain-text logins. \
            The account is the account's name as under Accounts in domains.conf, not one of its email \
            addresses. Safe to run while the server has the account open.
            """
    )

    @Argument(help: ArgumentHelp("The account name, as under Accounts in domains.conf.", valueName: "account"))
    public var account: String

    public init() {}
}

// MARK: - mox recalculatemailboxcounts

public struct RecalculateMailboxCounts: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "recalculatemailboxcounts",
        abstract: "Recalculate the message counts and sizes of all mailboxes of an account.",
        discussion: """
            Each mailbox keeps its number of messages, unread, unseen and deleted messages, and their \
            total size, updated with every change. Should a bug ever make them wrong, this command counts \
            again from the messages, stores the right numbers and prints each mailbox it corrected, with \
            the old and new counts. Safe to run while the server has the account open.
            """
    )

    @Argument(help: ArgumentHelp("The account name, as under Accounts in domains.conf.", valueName: "account"))
    public var account: String

    public init() {}
}

// MARK: - mox import

public struct ImportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import an mbox file or a Maildir into a mailbox of an account.",
        subcommands: [ImportMbox.self, ImportMaildir.self]
    )

    public init() {}
}

private let importDiscussion = """
    The mailbox is created when it does not exist. The messages are delivered one by one, each stored \
    durably before the next, so an import that stops (an error, or an interruption) leaves only whole \
    messages behind; the error says at which message or file it stopped, and how many came before it. \
    Messages are imported even when they are present already: importing twice gives duplicates. Line \
    endings are stored as CRLF. Safe to run while the server has the account open. On a terminal a \
    progress line shows the count, the rate and (when known) the time left; otherwise a line is \
    printed every 1,000 messages. At the end the number of imported messages is printed.
    """

public struct ImportMbox: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "mbox",
        abstract: "Import an mbox file into a mailbox of an account.",
        discussion: """
            The file is read as mboxrd: each message starts with a "From " line (whose date, when \
            present, becomes the message's received date), lines starting with ">From ", ">>From ", ... \
            lose one ">", and the flags in "Status", "X-Status" and "X-Keywords" header fields (as mail \
            programs and `mox export mbox` write them) are kept as flags and keywords. Maildir is the \
            better defined format, when there is a choice.
            """ + "\n\n" + importDiscussion
    )

    @Argument(help: ArgumentHelp("The account name, as under Accounts in domains.conf.", valueName: "account"))
    public var account: String

    @Argument(help: ArgumentHelp("The mailbox to import into, e.g. Inbox or Archive/2024.", valueName: "mailbox"))
    public var mailbox: String

    @Argument(help: ArgumentHelp("The mbox file.", valueName: "file"))
    public var file: String

    public init() {}
}

public struct ImportMaildir: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "maildir",
        abstract: "Import a Maildir into a mailbox of an account.",
        discussion: """
            The messages in the Maildir's new/ and cur/ directories are imported, in file name order. \
            Flags come from the ":2," suffix of each file name: S seen, R answered, F flagged, T deleted, \
            D draft; the letters a to z are keywords, named in the Maildir's dovecot-keywords file. The \
            received date is the number a file name starts with (seconds since 1970, as Maildir programs \
            name files), or else the file's modification time.
            """ + "\n\n" + importDiscussion
    )

    @Argument(help: ArgumentHelp("The account name, as under Accounts in domains.conf.", valueName: "account"))
    public var account: String

    @Argument(help: ArgumentHelp("The mailbox to import into, e.g. Inbox or Archive/2024.", valueName: "mailbox"))
    public var mailbox: String

    @Argument(help: ArgumentHelp("The Maildir, the directory holding cur/ and new/.", valueName: "dir"))
    public var dir: String

    public init() {}
}

// MARK: - mox export

public struct ExportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export mailboxes of an account as mbox files or Maildirs.",
        subcommands: [ExportMbox.self, ExportMaildir.self]
    )

    public init() {}
}

private let exportDiscussion = """
    Export works on the account's data directory directly, e.g. data/accounts/mjl, and needs no \
    configuration file, so it also works on a copy of the data directory. It is safe while the server \
    has the account open. Without MAILBOX all mailboxes are exported; with MAILBOX that mailbox and the \
    mailboxes below it (e.g. Archive and Archive/2024), or only that mailbox with -single. Files that \
    exist already in DSTDIR are not overwritten: the export stops with an error instead. Messages are \
    written with LF line endings.
    """

public struct ExportOptions: ParsableArguments {
    @Flag(
        name: .customLong("single", withSingleDash: true),
        help: "Export only the named mailbox, not the mailboxes below it; has no effect without a mailbox."
    )
    public var single = false

    @Argument(help: ArgumentHelp("The directory to write to, created when missing.", valueName: "dstdir"))
    public var dstDir: String

    @Argument(help: ArgumentHelp("The account's data directory, e.g. data/accounts/mjl.", valueName: "accountpath"))
    public var accountPath: String

    @Argument(help: ArgumentHelp("The mailbox to export; all mailboxes when left out.", valueName: "mailbox"))
    public var mailbox: String?

    public init() {}
}

public struct ExportMbox: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "mbox",
        abstract: "Export mailboxes of an account as mbox files.",
        discussion: """
            Each mailbox becomes DSTDIR/<mailbox>.mbox, in "mboxrd" form: a "From " line with the \
            message's received date starts each message, and message lines that start with "From " after \
            any number of ">" get one more ">", so that `mox import mbox` gives back the original lines. \
            Flags are written as "Status", "X-Status" and "X-Keywords" header fields. Maildir is the \
            better defined format, when there is a choice.
            """ + "\n\n" + exportDiscussion
    )

    @OptionGroup public var options: ExportOptions

    public init() {}
}

public struct ExportMaildir: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "maildir",
        abstract: "Export mailboxes of an account as Maildirs.",
        discussion: """
            Each mailbox becomes the Maildir DSTDIR/<mailbox>/ with new/, cur/ and tmp/. Messages are \
            in cur/, named <received>.<id>.mox:2,<flags> with the flag letters D draft, F flagged, \
            R answered, S seen, T deleted, and a to z for keywords, listed in the Maildir's \
            dovecot-keywords file (the first 26 keywords of a mailbox; others are left out).
            """ + "\n\n" + exportDiscussion
    )

    @OptionGroup public var options: ExportOptions

    public init() {}
}
