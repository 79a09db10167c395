import Foundation

/// The directory with the test fixtures, found next to this file.
let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

func fixturePath(_ name: String) -> String {
    fixturesDirectory.appendingPathComponent(name).path
}

func fixture(_ name: String) throws -> String {
    try String(contentsOfFile: fixturePath(name), encoding: .utf8)
}
