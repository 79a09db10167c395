import IMAPProtocol
import Testing

@Suite struct IMAPSequenceSetTests {
    static let valid: [(String, IMAPSequenceSet)] = [
        ("1", .ranges([IMAPSequenceRange(.number(1))])),
        ("*", .ranges([IMAPSequenceRange(.last)])),
        ("$", .searchResult),
        ("1:3,5", .ranges([IMAPSequenceRange(1...3), IMAPSequenceRange(.number(5))])),
        ("4:2", .ranges([IMAPSequenceRange(.number(4), .number(2))])),
        ("2:*", .ranges([IMAPSequenceRange(.number(2), .last)])),
        ("*:3", .ranges([IMAPSequenceRange(.last, .number(3))])),
        ("4294967295", .ranges([IMAPSequenceRange(.number(UInt32.max))])),
    ]

    @Test(arguments: valid)
    func parseAndFormat(text: String, set: IMAPSequenceSet) throws {
        #expect(try IMAPSequenceSet.parse(text) == set)
        #expect(set.description == text)
    }

    @Test(arguments: ["", "0", "1:0", "01", "1,", ",1", "1:", "a", "1 2", "4294967296", "1:3,$", "$,1", "-1"])
    func invalid(text: String) {
        #expect(throws: IMAPParseError.self) { try IMAPSequenceSet.parse(text) }
    }

    @Test func normalize() throws {
        let s = try IMAPSequenceSet.parse("7:5,1,2,3:4,20:*,100")
        #expect(s.normalized(max: 30) == [1...7, 20...30])
        // "20:*" with max 8 is "8:20", clipped to 8.
        #expect(Array(s.numbers(max: 8)) == [1, 2, 3, 4, 5, 6, 7, 8])
        // RFC 9051 6.4.9: "559:*" includes the last UID even when 559 is beyond it.
        #expect(try IMAPSequenceSet.parse("559:*").normalized(max: 100) == [100...100])
        #expect(try IMAPSequenceSet.parse("*").normalized(max: 0) == [])
        #expect(try Array(IMAPSequenceSet.parse("1:*").numbers(max: 3)) == [1, 2, 3])
        #expect(IMAPSequenceSet.searchResult.normalized(max: 10) == [])
        #expect(
            try IMAPSequenceSet.parse("4294967295,1").normalized(max: UInt32.max) == [1...1, UInt32.max...UInt32.max]
        )
    }

    @Test func contains() throws {
        let s = try IMAPSequenceSet.parse("2:4,*")
        #expect(s.contains(3, max: 10))
        #expect(s.contains(10, max: 10))
        #expect(!s.contains(5, max: 10))
        #expect(!s.contains(1, max: 10))
        #expect(!IMAPSequenceSet.searchResult.contains(1, max: 1))
    }

    @Test func fromNumbers() throws {
        #expect(IMAPSequenceSet(numbers: [5, 1, 2, 3, 9, 10, 3]).description == "1:3,5,9:10")
        let s = IMAPSequenceSet(numbers: [UInt32]())
        #expect(s == .ranges([]))
        #expect(try Array(IMAPSequenceSet.parse("1:3,5").numbers(max: 10)) == [1, 2, 3, 5])
    }
}
