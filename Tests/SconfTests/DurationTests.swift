import Sconf
import Testing

@Suite struct DurationTests {
    /// Text, nanoseconds, and the canonical text Go's time.Duration.String gives.
    @Test(
        arguments: [
            ("0", 0, "0s"),
            ("0s", 0, "0s"),
            ("-0", 0, "0s"),
            ("1ns", 1, "1ns"),
            ("1.5us", 1_500, "1.5µs"),
            ("2µs", 2_000, "2µs"),
            ("3μs", 3_000, "3µs"),
            ("300ms", 300_000_000, "300ms"),
            ("1.5s", 1_500_000_000, "1.5s"),
            (".5s", 500_000_000, "500ms"),
            ("1.s", 1_000_000_000, "1s"),
            ("90s", 90_000_000_000, "1m30s"),
            ("1h30m", 5_400_000_000_000, "1h30m0s"),
            ("1h30m0s", 5_400_000_000_000, "1h30m0s"),
            ("2h45m0.5s", 9_900_500_000_000, "2h45m0.5s"),
            ("24h", 86_400_000_000_000, "24h0m0s"),
            ("168h", 604_800_000_000_000, "168h0m0s"),
            ("+5m", 300_000_000_000, "5m0s"),
            ("-1.5h", -5_400_000_000_000, "-1h30m0s"),
            ("1.000000001s", 1_000_000_001, "1.000000001s"),
            ("8760h0.000000001s", 31_536_000_000_000_001, "8760h0m0.000000001s"),
            ("2562047h47m16.854775807s", Int64.max, "2562047h47m16.854775807s"),
            ("-2562047h47m16.854775808s", Int64.min, "-2562047h47m16.854775808s"),
        ] as [(String, Int64, String)]
    )
    func parseAndFormat(text: String, nanoseconds: Int64, canonical: String) throws {
        let d = try #require(SconfDuration(sconfText: Substring(text)))
        #expect(d.nanoseconds == nanoseconds)
        #expect(d.sconfText == canonical)
        #expect(SconfDuration(sconfText: Substring(d.sconfText)) == d)
    }

    @Test(arguments: [
        "", "s", "5", "1x", "1h30", ".s", "-.s", "1..5s", "- 5s", " 5s", "5 s", "1e3s", "9223372036854775808ns",
        "2562047h47m16.854775808s", "1S",
    ])
    func invalid(text: String) {
        #expect(SconfDuration(sconfText: Substring(text)) == nil)
    }
}
