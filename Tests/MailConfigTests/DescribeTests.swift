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
