import Foundation
import MailConfig
import Sconf
import Testing

/// The key skeleton of an annotated example: comment and empty lines dropped, each remaining
/// line trimmed, list items reduced to `-`.
func keySkeleton(_ text: String) -> [String] {
    var out: [String] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        let content = line.drop(while: { $0 == "\t" })
        let trimmed = content.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed.hasPrefix("#") {
            continue
        }
        let indent = String(repeating: "\t", count: line.count - content.count)
        out.append(indent + (trimmed.hasPrefix("-") ? "-" : trimmed))
    }
    return out
}

enum Example: String, CaseIterable, Sendable {
    case staticConfig = "mox.conf"
    case dynamicConfig = "domains.conf"

    var text: String {
        switch self {
        case .staticConfig: ConfigDescribe.staticExample
        case .dynamicConfig: ConfigDescribe.dynamicExample
        }
    }

    /// Keys and zero values of mox's own annotated example (config/doc.go), one per line.
    var moxKeysFixture: String {
        switch self {
        case .staticConfig: "mox-static-keys.txt"
        case .dynamicConfig: "mox-dynamic-keys.txt"
        }
    }
}

@Suite struct DescribeTests {
    /// Field names, order, nesting and value types (through the zero values shown) match mox's.
    @Test(arguments: Example.allCases)
    func sameKeysAsMox(example: Example) throws {
        let expected = try fixture(example.moxKeysFixture).split(separator: "\n").map(String.init)
        let got = keySkeleton(example.text)
        for (i, (e, g)) in zip(expected, got).enumerated() where e != g {
            Issue.record("line \(i + 1) of the key skeleton: expected \(e.debugDescription), got \(g.debugDescription)")
            break
        }
        #expect(expected.count == got.count)
    }

    @Test(arguments: Example.allCases)
    func examplesParseBack(example: Example) throws {
        switch example {
        case .staticConfig:
            let parsed = try Sconf.parse(StaticConfig.self, from: example.text, file: example.rawValue)
            #expect(parsed.value.listeners["x"] != nil)
        case .dynamicConfig:
            let parsed = try Sconf.parse(DynamicConfig.self, from: example.text, file: example.rawValue)
            #expect(parsed.value.accounts["x"]?.destinations["x"]?.rulesets.count == 1)
        }
    }

    /// Every field has documentation: each key line (other than a placeholder map key `x:` or
    /// a list item) comes right after a comment line.
    @Test(arguments: Example.allCases)
    func everyFieldDocumented(example: Example) {
        let lines = example.text.split(separator: "\n", omittingEmptySubsequences: false)
        var undocumented: [String] = []
        for (i, line) in lines.enumerated() {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.isEmpty || t.hasPrefix("#") || t.hasPrefix("-") || t == "x:" || t.hasPrefix("x: ") {
                continue
            }
            let previous = i > 0 ? lines[i - 1].trimmingCharacters(in: .whitespaces) : ""
            if !previous.hasPrefix("#") {
                undocumented.append("line \(i + 1): \(t)")
            }
        }
        #expect(undocumented == [])
    }

    /// The header says what the file is and how the format works.
    @Test(arguments: Example.allCases)
    func headerExplainsFormat(example: Example) {
        let header = example.text.split(separator: "\n").prefix(5).joined(separator: " ")
        #expect(header.hasPrefix("# \(example.rawValue)"))
        #expect(header.contains("tabs"))
    }

    /// The examples stay within 80 columns of comment text, as mox's do.
    @Test(arguments: Example.allCases)
    func commentsAreWrapped(example: Example) {
        for line in example.text.split(separator: "\n") {
            let content = line.drop(while: { $0 == "\t" })
            guard content.hasPrefix("# ") else { continue }
            let words = content.dropFirst(2).split(separator: " ")
            if words.count > 1 {
                #expect(content.count <= 82, "comment line too long: \(line)")
            }
        }
    }
}

/// `mox config example`'s snippets parse with the schema of the file they belong to.
@Suite struct ConfigExampleTests {
    @Test(arguments: ConfigExample.allCases)
    func examplesParse(example: ConfigExample) throws {
        let (staticPart, dynamicPart) = example.files
        // The snippets are parts of files: the required fields around them come from here.
        let staticBase = "DataDir: data\nLogLevel: info\nUser: mox\nHostname: mail.example.com\nListeners:\n\tpublic:\n\t\tIPs:\n\t\t\t- 127.0.0.1\nPostmaster:\n\tAccount: a\n\tMailbox: Postmaster\n"
        let dynamicBase = "Domains:\n\texample.com: nil\nAccounts:\n\ta:\n\t\tDomain: example.com\n\t\tDestinations:\n\t\t\ta@example.com: nil\n"
        if let staticPart {
            let parsed = try Sconf.parse(StaticConfig.self, from: staticBase + staticPart, file: "\(example.rawValue) mox.conf")
            #expect(parsed.value.transports["Relay"] != nil)
        }
        if let dynamicPart {
            let parsed = try Sconf.parse(DynamicConfig.self, from: dynamicBase + dynamicPart, file: "\(example.rawValue) domains.conf")
            if example == .webhandlers {
                #expect(parsed.value.webHandlers.count == 5)
                #expect(parsed.value.webDomainRedirects["example.com"] == "www.example.com")
            } else {
                #expect(parsed.value.routes.count == 1)
            }
        }
        #expect(example.text.hasSuffix("\n"))
        #expect(ConfigExample.names == ["webhandlers", "transport"])
    }
}
