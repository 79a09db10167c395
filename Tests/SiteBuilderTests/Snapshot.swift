import Foundation
import Testing

/// Compares `actual` with the golden file Snapshots/<name>; with RECORD=1 in the environment
/// the golden file is (re)written instead, for review in the diff.
func assertSnapshot(_ actual: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")
    let file = dir.appendingPathComponent(name)
    if ProcessInfo.processInfo.environment["RECORD"] == "1" {
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try? Data(actual.utf8).write(to: file)
        return
    }
    guard let data = FileManager.default.contents(atPath: file.path) else {
        Issue.record("missing golden file \(file.path); run with RECORD=1 to create it", sourceLocation: sourceLocation)
        return
    }
    let expected = String(decoding: data, as: UTF8.self)
    if expected != actual {
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        var line = 0
        while line < min(e.count, a.count) && e[line] == a[line] { line += 1 }
        let expectedLine = line < e.count ? String(e[line]) : "<end>"
        let actualLine = line < a.count ? String(a[line]) : "<end>"
        Issue.record(
            "\(name) differs at line \(line + 1):\n  expected: \(expectedLine)\n  actual:   \(actualLine)\n(RECORD=1 rewrites golden files)",
            sourceLocation: sourceLocation
        )
    }
}

func fixture(_ name: String) -> String {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/" + name)
    return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
}
