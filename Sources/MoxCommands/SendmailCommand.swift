import ArgumentParser

public struct Sendmail: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sendmail",
        abstract: "Submit a message read from standard input, as sendmail does, for cron jobs and scripts.",
        discussion: """
            Reads /etc/moxsubmit.conf (or the file named by $MOXSUBMITCONF; see mox config \
            describe-sendmail) for the submission server and the login, then submits the message \
            from standard input to the recipient given as argument, or with -t to the single address \
            of the message's To header. A recipient without a domain goes to DefaultDestination. The \
            message's From header is replaced by the configured From address, and line endings \
            become CRLF. Other sendmail flags are accepted and ignored. When submission fails, the \
            message is saved in $HOME/moxsubmit.failures and the exit status is 1.
            """
    )

    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("sendmail flags (-t uses the To header) and the recipient.", valueName: "args"))
    public var arguments: [String] = []

    public init() {}
}

public struct ConfigDescribeSendmail: MoxCommand {
    public static let configuration = CommandConfiguration(
        commandName: "describe-sendmail",
        abstract: "Print an annotated example of /etc/moxsubmit.conf, the configuration of mox sendmail."
    )

    public init() {}
}
