import MailConfig
import MailQueue
import MoxCommands
import MoxRuntime

/// Sends the command to the running server and prints its answer.
func queueControl(_ request: QueueControlRequest) throws {
    let config = try loadConfig()
    do {
        print(try MoxControl.queue(dataDir: config.dataDirectory, request), terminator: "")
    } catch {
        try fail(error.description)
    }
}

extension QueueFilterOptions {
    func queueFilter() throws -> QueueFilter {
        var f = QueueFilter()
        if let ids = self.ids {
            for part in ids.split(separator: ",") {
                guard let id = Int64(part) else { try fail("bad id \"\(part)\" in -ids") }
                f.ids.append(id)
            }
        }
        f.limit = self.limit ?? 0
        f.account = self.account ?? ""
        f.from = self.from ?? ""
        f.to = self.to ?? ""
        if let next = self.nextAttempt {
            guard QueueFilter.relative(next) != nil else { try fail("bad -nextattempt \"\(next)\", want e.g. \"<1h\" or \">-30m\"") }
            f.nextAttempt = next
        }
        f.transport = self.transport
        if let hold = self.hold {
            guard hold == "true" || hold == "false" else { try fail("-hold takes true or false") }
            f.hold = hold == "true"
        }
        return f
    }
}

extension QueueList: RunnableCommand {
    func execute() throws {
        if let sort = self.sort, sort != "nextattempt", sort != "queued" { try fail("-sort takes nextattempt or queued") }
        try queueControl(
            QueueControlRequest(command: "list", filter: try self.filter.queueFilter(), sortQueued: self.sort == "queued", ascending: self.ascending)
        )
    }
}

extension QueueHold: RunnableCommand {
    func execute() throws { try queueControl(QueueControlRequest(command: "hold", filter: try self.filter.queueFilter())) }
}

extension QueueUnhold: RunnableCommand {
    func execute() throws { try queueControl(QueueControlRequest(command: "unhold", filter: try self.filter.queueFilter())) }
}

extension QueueSchedule: RunnableCommand {
    func execute() throws {
        guard let seconds = QueueFilter.signedDuration(self.duration) else {
            try fail("bad duration \"\(self.duration)\", want e.g. 0s, 30m or -1h")
        }
        try queueControl(
            QueueControlRequest(command: "schedule", filter: try self.filter.queueFilter(), args: [self.fromNow ? "yes" : "", String(seconds)])
        )
    }
}

extension QueueTransport: RunnableCommand {
    func execute() throws {
        try queueControl(QueueControlRequest(command: "transport", filter: try self.filter.queueFilter(), args: [self.transport]))
    }
}

extension QueueRequireTLS: RunnableCommand {
    func execute() throws {
        guard ["yes", "no", "default"].contains(self.value) else { try fail("requiretls takes yes, no or default") }
        try queueControl(QueueControlRequest(command: "requiretls", filter: try self.filter.queueFilter(), args: [self.value]))
    }
}

extension QueueFail: RunnableCommand {
    func execute() throws { try queueControl(QueueControlRequest(command: "fail", filter: try self.filter.queueFilter())) }
}

extension QueueDrop: RunnableCommand {
    func execute() throws { try queueControl(QueueControlRequest(command: "drop", filter: try self.filter.queueFilter())) }
}

extension QueueDump: RunnableCommand {
    func execute() throws { try queueControl(QueueControlRequest(command: "dump", args: [self.id])) }
}

extension QueueHoldRulesList: RunnableCommand {
    func execute() throws { try queueControl(QueueControlRequest(command: "holdrules-list")) }
}

extension QueueHoldRulesAdd: RunnableCommand {
    func execute() throws {
        try queueControl(QueueControlRequest(command: "holdrules-add", args: [self.account, self.senderDomain, self.recipientDomain]))
    }
}

extension QueueHoldRulesRemove: RunnableCommand {
    func execute() throws { try queueControl(QueueControlRequest(command: "holdrules-remove", args: [self.id])) }
}

extension QueueRetiredList: RunnableCommand {
    func execute() throws { try queueControl(QueueControlRequest(command: "retired-list", filter: try self.filter.queueFilter())) }
}

extension QueueRetiredPrint: RunnableCommand {
    func execute() throws { try queueControl(QueueControlRequest(command: "retired-print", args: [self.id])) }
}

extension QueueSuppressList: RunnableCommand {
    func execute() throws {
        var f = QueueFilter()
        f.account = self.account
        try queueControl(QueueControlRequest(command: "suppress-list", filter: f))
    }
}

extension QueueSuppressAdd: RunnableCommand {
    func execute() throws { try queueControl(QueueControlRequest(command: "suppress-add", args: [self.account, self.address])) }
}

extension QueueSuppressRemove: RunnableCommand {
    func execute() throws { try queueControl(QueueControlRequest(command: "suppress-remove", args: [self.account, self.address])) }
}

extension QueueSuppressLookup: RunnableCommand {
    func execute() throws { try queueControl(QueueControlRequest(command: "suppress-lookup", args: [self.account, self.address])) }
}
