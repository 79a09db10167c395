import Sconf
import Testing

@Suite struct WriteTests {
    @Test func roundTrip() throws {
        var r = Root()
        r.word = "w"
        r.flag = true
        r.small = -5
        r.big = UInt64.max
        r.ratio = 0.1
        r.wait = SconfDuration(nanoseconds: 1_500_000_000)
        r.words = ["a", "", "c"]
        r.items = [Item(name: "a", count: 1, note: "n")]
        r.byName = ["k": Item(name: "b", count: 2)]
        r.flagsByName = ["none": Flags()]
        r.strings = ["k": "v", "e": ""]
        r.maybe = Item(name: "", count: 0)
        r.maybeFlag = false
        let text = Sconf.write(r)
        #expect(try Sconf.parse(Root.self, from: text).value == r)
        #expect(try Sconf.parse(Root.self, from: Sconf.write(r, docs: true)).value == r)
        #expect(text.contains("\tnone: nil\n"))
        #expect(text.contains("MaybeFlag: false\n"))
    }

    @Test func zeroOptionalsLeftOut() {
        var r = Root()
        r.word = "only"
        #expect(Sconf.write(r) == "Word: only\n")
        // An optional record with only unset optional fields has no written form.
        r.maybeFlags = Flags()
        #expect(Sconf.write(r) == "Word: only\n")
    }

    @Test func largeAndSmallDoubles() throws {
        for v in [0, 0.5, -0.25, 1e-7, 123456.789, 1e13, -3e20] {
            var r = Root()
            r.word = "w"
            r.ratio = v
            let back = try Sconf.parse(Root.self, from: Sconf.write(r)).value.ratio
            #expect(abs(back - v) <= 5e-7 || back == v, "\(v) came back as \(back)")
        }
        var r = Root()
        r.word = "w"
        r.ratio = 0.95
        #expect(Sconf.write(r).contains("Ratio: 0.950000\n"))
    }

    @Test func describeShowsEverything() throws {
        let text = Sconf.describe(Root.self)
        #expect(text.contains("# The name.\n\t\tName:\n"))
        #expect(text.contains("ByName:\n\tx:\n"))
        #expect(text.contains("Words:\n\t-\n"))
        #expect(text.contains("# (optional)\nFlag: false\n"))
        #expect(text.contains("Wait: 0s\n"))
        _ = try Sconf.parse(Root.self, from: text)
    }
}
