import Foundation
import MailConfig
import Sconf
import Testing

/// The key skeleton of an annotated example: comment and empty lines dropped, each remaining
/// line trimmed at the end, list items reduced to `-`.
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

func fixture(_ name: String) throws -> String {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
    return try String(contentsOf: url, encoding: .utf8)
}

func fixturePath(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)").path
}

@Suite struct DescribeTests {
    /// The fixtures hold the keys and zero values of mox's own annotated examples (config/doc.go),
    /// so this checks field names, order, nesting and value types against mox.
    @Test(arguments: [
        ("mox-static-keys.txt", ConfigDescribe.staticExample),
        ("mox-dynamic-keys.txt", ConfigDescribe.dynamicExample),
    ])
    func sameKeysAsMox(fixtureName: String, example: String) throws {
        let expected = try fixture(fixtureName).split(separator: "\n").map(String.init)
        let got = keySkeleton(example)
        for (i, (e, g)) in zip(expected, got).enumerated() where e != g {
            Issue.record("line \(i + 1) of the key skeleton: expected \(e.debugDescription), got \(g.debugDescription)")
            break
        }
        #expect(expected.count == got.count)
    }
}
