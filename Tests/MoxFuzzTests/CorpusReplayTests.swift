// Replays the fuzz corpora (Corpus/<target>/: the seeds from scripts/fuzz-seeds and what
// libFuzzer found with scripts/fuzz) through the same target functions libFuzzer runs: an input
// that once crashed a parser or broke a round trip stays a test.

import Foundation
import Testing

@testable import MoxFuzz

@Suite struct CorpusReplayTests {
    static func inputs(_ target: FuzzTarget) throws -> [(name: String, bytes: [UInt8])] {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Corpus/\(target.rawValue)")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        return try names.map { ($0, Array(try Data(contentsOf: dir.appendingPathComponent($0)))) }
    }

    @Test(arguments: FuzzTarget.allCases)
    func replay(_ target: FuzzTarget) throws {
        let inputs = try Self.inputs(target)
        #expect(inputs.count >= 20, "corpus of \(target.rawValue) has only \(inputs.count) inputs")
        var accepted = 0
        for input in inputs {
            do {
                if try target.run(input.bytes) { accepted += 1 }
            } catch {
                Issue.record("Corpus/\(target.rawValue)/\(input.name): \(error)")
            }
        }
        // The seeds are valid inputs (what libFuzzer adds mostly is not): a parser that refuses
        // nearly everything has regressed.
        #expect(accepted >= 20, "\(target.rawValue): \(accepted) of \(inputs.count) accepted")
    }

    /// The properties themselves hold on hand-made inputs, so the replay cannot pass by
    /// accepting nothing.
    @Test func targetsAcceptAndRefuse() throws {
        #expect(try FuzzTarget.spfRecord.run(Array("v=spf1 ip4:192.0.2.0/24 include:_spf.example.com ~all".utf8)))
        #expect(try !FuzzTarget.spfRecord.run(Array("v=spf1 ip4:300.1.1.1".utf8)))
        #expect(try !FuzzTarget.dnsMessage.run([0, 1, 2]))
        // A query for example. MX: header, one question.
        let query: [UInt8] = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7] + Array("example".utf8) + [0, 0, 15, 0, 1]
        #expect(try FuzzTarget.dnsMessage.run(query))
        // A compression pointer to itself is refused, not followed.
        let loop: [UInt8] = [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 15, 0, 1]
        #expect(try !FuzzTarget.dnsMessage.run(loop))
        #expect(try FuzzTarget.dkimHeader.run(Array("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=".utf8)))
        #expect(try !FuzzTarget.dkimHeader.run(Array("DKIM-Signature: v=1; a=rsa-sha256; d=example.com\r\n".utf8)))
    }

    /// A round trip that does not come back is a violation that names the target.
    @Test func roundTripViolations() {
        #expect(throws: FuzzViolation.self) { try FuzzTarget.dnsMessage.roundTrip(1, encode: { $0 }, decode: { $0 + 1 }) }
        #expect(throws: FuzzViolation.self) { try FuzzTarget.spfRecord.roundTrip(1, encode: { $0 }, decode: { _ in throw FuzzViolation(target: .spfRecord, reason: "x") }) }
        #expect(throws: Never.self) { try FuzzTarget.dkimHeader.roundTrip(1, encode: { $0 * 2 }, decode: { $0 / 2 }) }
    }
}
