/// A command line that could not be parsed, with the exact reply to send for it.
public struct SMTPSyntaxError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What to send to the client, for example 501 5.5.2 with the reason.
    public var reply: SMTPReply
    /// The reason, for logs; also the text of the reply.
    public var reason: String
    /// The part of the line that was not parsed yet, for logs (not sent: it may hold data the
    /// client should not see echoed).
    public var remaining: String

    public init(reply: SMTPReply, reason: String, remaining: String = "") {
        self.reply = reply
        self.reason = reason
        self.remaining = remaining
    }

    public var description: String {
        self.remaining.isEmpty ? self.reply.description : "\(self.reply) (remaining \(self.remaining.debugDescription))"
    }
}
