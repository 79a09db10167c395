// The command reference, from the JSON that `mox --experimental-dump-help` prints (the
// command tree of swift-argument-parser). Only the fields used here are decoded.

import FoundationEssentials

public struct CommandTree: Decodable, Sendable {
    public var command: CommandNode

    public static func decode(_ json: [UInt8]) throws(SiteError) -> CommandTree {
        do {
            return try JSONDecoder().decode(CommandTree.self, from: Data(json))
        } catch {
            throw SiteError("decoding the command tree from `mox --experimental-dump-help`: \(error)")
        }
    }
}

public struct CommandNode: Decodable, Sendable {
    public var commandName: String
    public var abstract: String?
    public var discussion: String?
    public var shouldDisplay: Bool?
    public var subcommands: [CommandNode]?
    public var arguments: [ArgumentNode]?
}

public struct ArgumentNode: Decodable, Sendable {
    public struct Name: Decodable, Sendable {
        public var kind: String
        public var name: String

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
    var out = ""
    var inCode = false
    for c in s {
        if c == "`" {
            inCode.toggle()
        } else if !inCode && "\\*_[]<>".contains(c) {
            out.append("\\")
        }
        out.append(c)
    }
    return out
}
