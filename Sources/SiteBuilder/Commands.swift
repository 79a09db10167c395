// The command reference, from the JSON that `mox --experimental-dump-help` prints (the
// command tree of swift-argument-parser). Only the fields used here are read.

public struct CommandTree: Sendable {
    public var command: CommandNode

    public static func decode(_ json: [UInt8]) throws(SiteError) -> CommandTree {
        let what = "decoding the command tree from `mox --experimental-dump-help`"
        let doc: JSONValue
        do {
            doc = try JSONReader.parse(json)
        } catch {
            throw SiteError("\(what): \(error)")
        }
        guard let command = doc["command"] else {
            throw SiteError("\(what): the document has no \"command\" object")
        }
        return CommandTree(command: try CommandNode(command, path: "command", what: what))
    }
}

/// A member that must be a string, a bool or an array when present: a value of another type
/// is an error naming where it is, as a missing required member is.
private struct Members {
    let value: JSONValue
    let path: String
    let what: String

    init(_ value: JSONValue, path: String, what: String) throws(SiteError) {
        guard case .object = value else { throw SiteError("\(what): \(path) is not an object") }
        self.value = value
        self.path = path
        self.what = what
    }

    func string(_ key: String) throws(SiteError) -> String? {
        guard let v = self.value[key], v != .null else { return nil }
        guard let s = v.stringValue else { throw SiteError("\(self.what): \(self.path).\(key) is not a string") }
        return s
    }

    func required(_ key: String) throws(SiteError) -> String {
        guard let s = try self.string(key) else {
            throw SiteError("\(self.what): \(self.path) has no \"\(key)\"")
        }
        return s
    }

    func bool(_ key: String) throws(SiteError) -> Bool? {
        guard let v = self.value[key], v != .null else { return nil }
        guard let b = v.boolValue else { throw SiteError("\(self.what): \(self.path).\(key) is not a bool") }
        return b
    }

    func array(_ key: String) throws(SiteError) -> [JSONValue]? {
        guard let v = self.value[key], v != .null else { return nil }
        guard let a = v.arrayValue else { throw SiteError("\(self.what): \(self.path).\(key) is not an array") }
        return a
    }
}

public struct CommandNode: Sendable {
    public var commandName: String
    public var abstract: String?
    public var discussion: String?
    public var shouldDisplay: Bool?
    public var subcommands: [CommandNode]?
    public var arguments: [ArgumentNode]?

    init(_ json: JSONValue, path: String, what: String) throws(SiteError) {
        let m = try Members(json, path: path, what: what)
        self.commandName = try m.required("commandName")
        self.abstract = try m.string("abstract")
        self.discussion = try m.string("discussion")
        self.shouldDisplay = try m.bool("shouldDisplay")
        let here = path + "(" + self.commandName + ")"
        if let subs = try m.array("subcommands") {
            var nodes: [CommandNode] = []
            for (i, sub) in subs.enumerated() {
                nodes.append(try CommandNode(sub, path: "\(here).subcommands[\(i)]", what: what))
            }
            self.subcommands = nodes
        }
        if let args = try m.array("arguments") {
            var nodes: [ArgumentNode] = []
            for (i, arg) in args.enumerated() {
                nodes.append(try ArgumentNode(arg, path: "\(here).arguments[\(i)]", what: what))
            }
            self.arguments = nodes
        }
    }
}

public struct ArgumentNode: Sendable {
    public struct Name: Sendable {
        public var kind: String
        public var name: String

        init(_ json: JSONValue, path: String, what: String) throws(SiteError) {
            let m = try Members(json, path: path, what: what)
            self.kind = try m.required("kind")
            self.name = try m.required("name")
        }

        var spelled: String {
            switch self.kind {
            case "long": return "--" + self.name
            default: return "-" + self.name
            }
        }
    }

    public var kind: String
    public var shouldDisplay: Bool?
    public var isOptional: Bool?
    public var isRepeating: Bool?
    public var names: [Name]?
    public var preferredName: Name?
    public var valueName: String?
    public var defaultValue: String?
    public var abstract: String?
    public var discussion: String?

    init(_ json: JSONValue, path: String, what: String) throws(SiteError) {
        let m = try Members(json, path: path, what: what)
        self.kind = try m.required("kind")
        self.shouldDisplay = try m.bool("shouldDisplay")
        self.isOptional = try m.bool("isOptional")
        self.isRepeating = try m.bool("isRepeating")
        if let names = try m.array("names") {
            var out: [Name] = []
            for (i, n) in names.enumerated() {
                out.append(try Name(n, path: "\(path).names[\(i)]", what: what))
            }
            self.names = out
        }
        if let preferred = json["preferredName"], preferred != .null {
            self.preferredName = try Name(preferred, path: path + ".preferredName", what: what)
        }
        self.valueName = try m.string("valueName")
        self.defaultValue = try m.string("defaultValue")
        self.abstract = try m.string("abstract")
        self.discussion = try m.string("discussion")
    }

    var isHelpOrVersion: Bool {
        (self.names ?? []).contains { ["help", "h", "version"].contains($0.name) }
    }

    /// `-dir dir`, `[-initonly]`, `$account`, `[$mailbox]`, `$file ...`.
    var usage: String {
        let optional = self.isOptional ?? false
        var s: String
        switch self.kind {
        case "positional":
            s = "$" + (self.valueName ?? "arg")
        case "flag":
            s = self.preferredName?.spelled ?? ""
        default:
            s = (self.preferredName?.spelled ?? "") + " " + (self.valueName ?? "value")
        }
        if self.isRepeating ?? false {
            s += " ..."
        }
        return optional ? "[\(s)]" : s
    }
}

enum CommandReference {
    /// Commands in tree order with their full names (`mox config test`), leaving out hidden
    /// commands and the group commands that only hold subcommands.
    static func flatten(_ node: CommandNode, prefix: String = "") -> [(name: String, node: CommandNode)] {
        let name = prefix.isEmpty ? node.commandName : prefix + " " + node.commandName
        var out: [(String, CommandNode)] = []
        let subs = (node.subcommands ?? []).filter { $0.shouldDisplay ?? true }
        if subs.isEmpty {
            out.append((name, node))
        }
        for sub in subs {
            out += Self.flatten(sub, prefix: name)
        }
        return out
    }

    static func usage(_ name: String, _ node: CommandNode) -> String {
        let args = (node.arguments ?? []).filter { ($0.shouldDisplay ?? true) && !$0.isHelpOrVersion }
        return ([name] + args.map(\.usage)).joined(separator: " ")
    }

    /// The Markdown of the command reference page.
    static func markdown(_ tree: CommandTree) -> String {
        let root = tree.command
        let commands = Self.flatten(root).filter { $0.name != root.commandName }
        var md = "# Command reference\n\n"
        md += "This page is generated from the `mox` command's own definitions, so it always matches the binary "
        md += "it was built with. Run `mox help COMMAND` for the same text in a terminal.\n\n"
        if let discussion = root.discussion, !discussion.isEmpty {
            md += discussion + "\n\n"
        }
        md += "## Usage\n\n```\n"
        let rootArgs = (root.arguments ?? []).filter { ($0.shouldDisplay ?? true) && !$0.isHelpOrVersion }
        md += ([root.commandName] + rootArgs.map(\.usage) + ["..."]).joined(separator: " ") + "\n"
        for (name, node) in commands {
            md += Self.usage(name, node) + "\n"
        }
        md += "```\n"
        for (name, node) in commands {
            md += "\n## \(name)\n\n"
            if let abstract = node.abstract, !abstract.isEmpty {
                md += escapeMarkdownText(abstract) + "\n\n"
            }
            if let discussion = node.discussion, !discussion.isEmpty {
                md += escapeMarkdownText(discussion) + "\n\n"
            }
            md += "```\nusage: " + Self.usage(name, node) + "\n"
            for arg in (node.arguments ?? []) where (arg.shouldDisplay ?? true) && !arg.isHelpOrVersion {
                var label =
                    arg.kind == "positional" ? "$" + (arg.valueName ?? "arg") : (arg.preferredName?.spelled ?? "")
                if arg.kind == "option" {
                    label += " " + (arg.valueName ?? "value")
                }
                md += "  \(label)\n"
                var help = arg.abstract ?? ""
                if let def = arg.defaultValue, !def.isEmpty {
                    help += help.isEmpty ? "(default: \(def))" : " (default: \(def))"
                }
                if !help.isEmpty {
                    md += "    \t\(help)\n"
                }
            }
            md += "```\n"
        }
        return md
    }
}

/// Help text goes into Markdown paragraphs: characters Markdown would take as markup stay
/// literal, except backticks, which help texts use for commands and render as code.
func escapeMarkdownText(_ s: String) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(s.utf8.count + 16)
    var inCode = false
    // The characters are all ASCII, so bytes will do: UTF-8 never has an ASCII byte inside
    // a multi-byte sequence.
    for c in s.utf8 {
        switch c {
        case UInt8(ascii: "`"):
            inCode.toggle()
        case UInt8(ascii: "\\"), UInt8(ascii: "*"), UInt8(ascii: "_"), UInt8(ascii: "["), UInt8(ascii: "]"),
            UInt8(ascii: "<"), UInt8(ascii: ">"):
            if !inCode { out.append(UInt8(ascii: "\\")) }
        default:
            break
        }
        out.append(c)
    }
    return String(decoding: out, as: UTF8.self)
}
