import Testing

@testable import SiteBuilder

struct JSONTests {
    static func parse(_ s: String) throws(JSONError) -> JSONValue {
        try JSONReader.parse(Array(s.utf8))
    }

    @Test func valuesAndNesting() throws {
        let v = try Self.parse(#" { "a" : [1, -2.5e3, true, false, null, "x"], "b": {} , "c":[] } "#)
        #expect(v["a"] == .array([.number("1"), .number("-2.5e3"), .bool(true), .bool(false), .null, .string("x")]))
        #expect(v["b"] == .object([]))
        #expect(v["c"] == .array([]))
        #expect(v["missing"] == nil)
    }

    @Test func stringEscapes() throws {
        let v = try Self.parse(#"["q\"b\\s\/n\n t\t u\u00e9 pair\ud83d\ude00 raw é"]"#)
        #expect(v == .array([.string("q\"b\\s/n\n t\t u\u{e9} pair\u{1F600} raw é")]))
    }

    @Test func badDocumentsFailWithTheirOffset() {
        for (doc, offset) in [
            ("[1,]", 3), ("{\"a\" 1}", 5), ("\"open", 5), ("[01]", 1), ("tru", 0), ("[1] x", 4),
            ("\"\\ud800x\"", 7), ("\"a\u{1}\"", 2), ("{\"a\":1,}", 7),
        ] {
            #expect(throws: JSONError.self, "\(doc)") { try Self.parse(doc) }
            do {
                _ = try Self.parse(doc)
            } catch {
                #expect(error.offset == offset, "\(doc): \(error)")
            }
        }
    }

    @Test func deepNestingIsRefused() {
        let deep = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect(throws: JSONError.self) { try Self.parse(deep) }
    }

    @Test func commandTreeWithAWrongTypeNamesThePlace() {
        let doc = #"{"command":{"commandName":"mox","subcommands":[{"commandName":"x","abstract":3}]}}"#
        do {
            _ = try CommandTree.decode(Array(doc.utf8))
            Issue.record("decoded a tree with a number for a string")
        } catch {
            #expect(error.description.contains("command(mox).subcommands[0].abstract is not a string"), "\(error)")
        }
    }
}
