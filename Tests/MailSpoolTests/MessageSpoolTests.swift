import Foundation
import MailMessage
import MailSpool
import Testing

@Suite struct MessageSpoolTests {
    let directory = NSTemporaryDirectory() + "spooltest-" + UUID().uuidString + "/tmp"

    func files() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: self.directory)) ?? []
    }

    @Test func anAbandonedSpoolLeavesNoFile() throws {
        do {
            let spool = try MessageSpool(directory: self.directory, memoryLimit: 10)
            spool.append(Array("Subject: x\r\n\r\nbody\r\n".utf8))
            #expect(self.files().count == 1)
        }
        #expect(self.files().isEmpty)
    }

    /// Below the memory limit no file is made at all.
    @Test func aSmallMessageStaysInMemory() throws {
        let bytes = Array("Subject: small\r\n\r\nbody\r\n".utf8)
        let spool = try MessageSpool(directory: self.directory)
        spool.append(bytes)
        let message = try spool.finish()
        #expect(self.files().isEmpty)
        #expect(message.path == nil)
        #expect(try message.readAll() == bytes)
        #expect(try message.read(offset: 9, count: 5) == Array("small".utf8))
        #expect(message.scanned.header.first("subject") == "small")
    }

    @Test func aFinishedMessageReadsBackAndGoesWithItsLastReference() throws {
        let bytes = Array("Subject: hello\r\n\r\n".utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: 300_000)
        var message: SpooledMessage?
        do {
            let spool = try MessageSpool(directory: self.directory)
            // Pieces around the buffer size, and one larger than it.
            spool.append(bytes[0..<10])
            spool.append(bytes[10..<70_000])
            spool.append(bytes[70_000...])
            message = try spool.finish()
        }
        #expect(message?.size == bytes.count)
        #expect(try message?.readAll() == bytes)
        #expect(try message?.read(offset: 5, count: 4) == Array("ct: ".utf8))
        #expect(message?.scanned.header.first("subject") == "hello")
        #expect(message?.scanned.root.bodySize == 300_000)
        // A hard link made by the store stays when the spool's own name goes.
        let link = self.directory + "/../kept"
        #expect(Foundation.link(try #require(message?.path), link) == 0)
        message = nil
        #expect(self.files().isEmpty)
        #expect(FileManager.default.fileExists(atPath: link))
    }
}
