import MailAddress
import MailConfig
import MailHTTP
import MoxCommands

extension ClientConfigCommand: RunnableCommand {
    func execute() throws {
        guard let domain = Domain.parse(self.domain) else {
            try fail("invalid domain \"\(self.domain)\"")
        }
        let config = try loadConfig()
        let entries: [ClientConfig.Entry]
        do {
            entries = try ClientConfig.entries(domain: domain, config: config)
        } catch {
            try fail(error.description)
        }
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        func padLeft(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
        print("\(pad("Protocol", 20)) \(pad("Host", 30)) \(padLeft("Port", 5)) \(pad("Listener", 15)) Note")
        for e in entries {
            print("\(pad(e.protocol, 20)) \(pad(e.host, 30)) \(padLeft(String(e.port), 5)) \(pad(e.listener, 15)) \(e.note)")
        }
        print("""

            To prevent authentication mechanism downgrade attacks that could make a client
            send its password in plain text to a man in the middle, configure clients
            explicitly with the most secure mechanism they support, the first of:
            SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS, SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5.
            """)
    }
}
