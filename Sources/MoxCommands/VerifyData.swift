import ArgumentParser

public struct VerifyData: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "verifydata",
        abstract: "Verify that the databases and message files of a data directory agree.",
        discussion: """
            For every account under DATADIR/accounts, checks that each message in the database has its \
            message file with the size the database records, that there are no message files without a \
            message (orphans) and no leftover temporary files, that UIDs are unique and below UIDNEXT in \
            each mailbox, that the stored mailbox counts equal what the messages add up to, that no MODSEQ \
            is above the account's highest, and that the full-text index holds exactly the live messages.

            Every problem is printed with the account, mailbox, message id, UID and file path it concerns, \
            followed by a summary; the exit status is 1 when there is any problem. The databases are opened \
            read-only and the account locks are not taken, so it is safe to run while mox or another command \
            has the data directory open: files and messages that are in the middle of a delivery or removal \
            are looked at again before they are reported. Orphaned and temporary files are removed the next \
            time an account is opened while nobody else has it open. Typically run on a backup, or after a \
            crash. On a terminal a progress line is shown; otherwise output is one line per account.
            """
    )

    @Flag(
        name: .customLong("skip-size-check", withSingleDash: true),
        help: "Do not report message files whose size differs from the size in the database."
    )
    public var skipSizeCheck = false

    @Argument(help: ArgumentHelp("The data directory, with the accounts/ directory in it.", valueName: "datadir"))
    public var dataDir: String

    public init() {}
}
