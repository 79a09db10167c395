import Foundation
import MailConfig
import Testing

/// A small domains.conf with comments in several places, to check that edits keep them.
private let commented = """
    # Domains we handle.
    Domains:
    \texample.org: nil
    \texample.net: nil

    # The accounts.
    Accounts:
    \t# First account.
    \tmjl:
    \t\tDomain: example.org
    \t\t# Its addresses.
    \t\tDestinations:
    \t\t\tmjl@example.org: nil
    \t\t\t# Old address, keep.
    \t\t\tmechiel@example.net:
    \t\t\t\tFullName: Mechiel
    \t\tFullName: M
    \talice:
    \t\tDomain: example.org
    \t\tDestinations:
    \t\t\talice@example.org: nil
    # Trailing comment.
    MonitorDNSBLs:
    \t- sbl.spamhaus.org

    """

@Suite struct DomainsEditTests {
    @Test func addAccountAppendsAtEndOfAccounts() throws {
        let text = try DomainsEdit.addAccount(commented, name: "bob", address: "Bob@Example.ORG")
        let expected = commented.replacingOccurrences(
            of: "\t\t\talice@example.org: nil\n",
            with: "\t\t\talice@example.org: nil\n\tbob:\n\t\tDomain: example.org\n\t\tDestinations:\n"
                + "\t\t\tBob@example.org: nil\n"
        )
        #expect(text == expected)
    }

    @Test func addAccountWithoutAccountsSection() throws {
        let text = try DomainsEdit.addAccount("Domains:\n\texample.org: nil", name: "bob", address: "bob@example.org")
        #expect(
            text
                == "Domains:\n\texample.org: nil\nAccounts:\n\tbob:\n\t\tDomain: example.org\n\t\tDestinations:\n"
                + "\t\t\tbob@example.org: nil\n"
        )
    }

    @Test(arguments: [
        ("mjl", "bob@example.org", "already exists"),
        ("bad:name", "bob@example.org", "invalid account name"),
        ("bob", "no-at-sign", "no @"),
        ("bob", "@example.org", "catchall"),
    ])
    func addAccountRefused(name: String, address: String, reason: String) {
        #expect {
            try DomainsEdit.addAccount(commented, name: name, address: address)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test func removeAccountRemovesItsLinesOnly() throws {
        let text = try DomainsEdit.removeAccount(commented, name: "mjl")
        let start = try #require(commented.range(of: "\tmjl:\n"))
        let end = try #require(commented.range(of: "\talice:\n"))
        var expected = commented
        expected.removeSubrange(start.lowerBound..<end.lowerBound)
        #expect(text == expected)
        #expect(text.contains("\t# First account.\n"))
        #expect(text.contains("# Trailing comment.\n"))
        #expect(throws: ConfigEditError.self) { try DomainsEdit.removeAccount(commented, name: "nobody") }
    }

    @Test func addAddressAfterLastDestination() throws {
        let text = try DomainsEdit.addAddress(commented, address: "@example.net", account: "mjl")
        let expected = commented.replacingOccurrences(
            of: "\t\t\t\tFullName: Mechiel\n",
            with: "\t\t\t\tFullName: Mechiel\n\t\t\t@example.net: nil\n"
        )
        #expect(text == expected)
    }

    @Test func removeAddressWithNestedLines() throws {
        let text = try DomainsEdit.removeAddress(commented, key: "mechiel@example.net", account: "mjl")
        let expected = commented.replacingOccurrences(
            of: "\t\t\tmechiel@example.net:\n\t\t\t\tFullName: Mechiel\n",
            with: ""
        )
        #expect(text == expected)
        #expect(text.contains("# Old address, keep."))
    }

    @Test func lastAddressIsNotRemoved() {
        #expect {
            try DomainsEdit.removeAddress(commented, key: "alice@example.org", account: "alice")
        } throws: { error in
            "\(error)".contains("last address")
        }
    }

    @Test func crlfFilesStayCRLF() throws {
        let crlf = commented.replacingOccurrences(of: "\n", with: "\r\n")
        let text = try DomainsEdit.addAddress(crlf, address: "x@example.org", account: "alice")
        #expect(
            text
                == crlf.replacingOccurrences(
                    of: "alice@example.org: nil\r\n",
                    with: "alice@example.org: nil\r\n\t\t\tx@example.org: nil\r\n"
                )
        )
    }
}

/// Edits through the file: validation and the atomic replacement.
@Suite struct ConfigEditorTests {
    /// A copy of the quickstart configuration in a fresh directory.
    final class ConfigCopy {
        let directory: URL
        var staticPath: String { self.directory.appendingPathComponent("mox.conf").path }
        var dynamicPath: String { self.directory.appendingPathComponent("domains.conf").path }

        init() throws {
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("edit-test-\(UUID().uuidString)")
            try FileManager.default.copyItem(at: fixturesDirectory.appendingPathComponent("quickstart"), to: base)
            self.directory = base
        }

        deinit {
            try? FileManager.default.removeItem(at: self.directory)
        }
    }

    @Test func validEditReplacesFileAndKeepsMode() throws {
        let copy = try ConfigCopy()
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: copy.dynamicPath)
        let before = try String(contentsOfFile: copy.dynamicPath, encoding: .utf8)
        let config = try ConfigEditor.apply(staticPath: copy.staticPath) { text, _ throws(ConfigEditError) in
            try DomainsEdit.addAccount(text, name: "bob", address: "bob@example.org")
        }
        #expect(config.dynamicConfig.accounts["bob"]?.destinations.keys.sorted() == ["bob@example.org"])
        let after = try String(contentsOfFile: copy.dynamicPath, encoding: .utf8)
        let untouched = try #require(before.range(of: "WebDomainRedirects:"))
        #expect(after.hasPrefix(String(before[..<untouched.lowerBound])))
        #expect(try ConfigLoader.load(staticPath: copy.staticPath).dynamicConfig.accounts["bob"] != nil)
        let attributes = try FileManager.default.attributesOfItem(atPath: copy.dynamicPath)
        #expect((attributes[.posixPermissions] as? Int) == 0o640)
        // No temporary file is left behind.
        let names = try FileManager.default.contentsOfDirectory(atPath: copy.directory.path).sorted()
        #expect(names == ["dkim", "domains.conf", "hostkeys", "mox.conf"])
    }

    @Test(arguments: [
        ("carl", "carl@unknown.example", "unknown domain"),
        ("carl", "mjl@example.org", "already a destination"),
    ])
    func invalidEditIsRefused(name: String, address: String, reason: String) throws {
        let copy = try ConfigCopy()
        let before = try Data(contentsOf: URL(fileURLWithPath: copy.dynamicPath))
        #expect {
            try ConfigEditor.apply(staticPath: copy.staticPath) { text, _ throws(ConfigEditError) in
                try DomainsEdit.addAccount(text, name: name, address: address)
            }
        } throws: { error in
            "\(error)".contains(reason) && "\(error)".contains("invalid")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: copy.dynamicPath)) == before)
    }

    @Test func removingAnAccountThatOthersReferToIsRefused() throws {
        // The quickstart's mox.conf names mjl as the postmaster account.
        let copy = try ConfigCopy()
        #expect(throws: ConfigEditError.self) {
            try ConfigEditor.apply(staticPath: copy.staticPath) { text, _ throws(ConfigEditError) in
                try DomainsEdit.removeAccount(text, name: "mjl")
            }
        }
    }

    @Test func writeAtomicallyReplacesContents() throws {
        let copy = try ConfigCopy()
        let path = copy.directory.appendingPathComponent("file").path
        try ConfigEditor.writeAtomically(path, Array("one\n".utf8))
        try ConfigEditor.writeAtomically(path, Array("two\n".utf8))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "two\n")
    }
}
