// rfc/index.txt: the implementation status of each RFC, grouped by topic.
//
// Format: a line `# Title` starts a topic; a line `number<TAB>status<TAB>flags<TAB>title`
// adds an RFC to the current topic. Other lines (the file's preamble) are ignored. A status
// starting with `-` hides the row; flag `Obs` marks an obsolete RFC.

/// Implementation status of one RFC.
public enum RFCStatus: String, Sendable, CaseIterable {
    case yes = "Yes"
    case partial = "Partial"
    case roadmap = "Roadmap"
    case no = "No"
    case unknown = "?"

    var cssClass: String {
        switch self {
        case .yes: return "implemented"
        case .partial: return "partial"
        case .roadmap: return "roadmap"
        case .no: return "notimplemented"
        case .unknown: return "unknown"
        }
    }

    var meaning: String {
        switch self {
        case .yes: return "Implemented: the RFC's functionality is complete, or nearly so."
        case .partial: return "Partly implemented: some of the RFC's functionality works today."
        case .roadmap: return "Planned: not implemented yet, but on the roadmap."
        case .no: return "Not implemented and not planned for now."
        case .unknown: return "Undecided, unknown or not applicable."
        }
    }
}

public struct RFCEntry: Equatable, Sendable {
    public var number: Int
    public var status: RFCStatus
    public var obsolete: Bool
    public var title: String
}

public struct RFCTopic: Equatable, Sendable {
    public var title: String
    public var anchor: String
    public var rfcs: [RFCEntry]
}

public enum RFCIndex {
    /// Parses the index. Topics whose every row is hidden are left out. A row with an
    /// unknown status or a bad number is an error naming the line.
    public static func parse(_ text: String, file: String = "rfc/index.txt") throws(SiteError) -> [RFCTopic] {
        var topics: [RFCTopic] = []
        var lineNumber = 0
        for rawLine in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.last == UInt8(ascii: "\r") ? rawLine.dropLast() : rawLine
            if line.starts(with: "# ".utf8) {
                let title = String(decoding: line.dropFirst(2), as: UTF8.self).trimming(" \t")
                topics.append(RFCTopic(title: title, anchor: Anchor.name(title), rfcs: []))
                continue
            }
            let fields = line.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false)
                .map { String(decoding: $0, as: UTF8.self) }
            guard fields.count == 4 else {
                continue
            }
            let statusText = fields[1].trimming(" ")
            if statusText.hasPrefix("-") {
                continue
            }
            guard let status = RFCStatus(rawValue: statusText) else {
                let allowed = RFCStatus.allCases.map(\.rawValue).joined(separator: ", ")
                throw SiteError(
                    "\(file):\(lineNumber): unknown status \"\(statusText)\" (use \(allowed), or start it with - to hide the row)"
                )
            }
            guard let number = Int(fields[0].trimming(" ")), number > 0 else {
                throw SiteError("\(file):\(lineNumber): bad RFC number \"\(fields[0])\"")
            }
            guard !topics.isEmpty else {
                throw SiteError("\(file):\(lineNumber): RFC row before the first \"# Topic\" line")
            }
            let flags = fields[2].split(separator: ",").map { $0.trimming(" ") }
            topics[topics.count - 1].rfcs.append(
                RFCEntry(number: number, status: status, obsolete: flags.contains("Obs"), title: fields[3])
            )
        }
        return topics.filter { !$0.rfcs.isEmpty }
    }

    /// The legend and the table of all topics.
    static func html(_ topics: [RFCTopic]) -> String {
        var s = "<table class=\"legend\">\n"
        for status in RFCStatus.allCases {
            s += "<tr><td><span class=\"status \(status.cssClass)\">\(escapeHTML(status.rawValue))</span></td>"
            s += "<td>\(escapeHTML(status.meaning))</td></tr>\n"
        }
        s += "</table>\n\n<table class=\"rfcs\">\n<tr><th>RFC</th><th>Status</th><th>Title</th></tr>\n"
        for topic in topics {
            let id = "topic-" + topic.anchor
            s += "<tr><td colspan=\"3\" class=\"topic\" id=\"\(escapeHTML(id))\">\(escapeHTML(topic.title))"
            s += " <a href=\"#\(escapeHTML(id))\">#</a></td></tr>\n"
            for rfc in topic.rfcs {
                s += rfc.obsolete ? "<tr class=\"obsolete\">" : "<tr>"
                s +=
                    "<td style=\"text-align: right\"><a href=\"https://www.rfc-editor.org/rfc/rfc\(rfc.number)\">\(rfc.number)</a></td>"
                s +=
                    "<td style=\"text-align: center\"><span class=\"status \(rfc.status.cssClass)\">\(escapeHTML(rfc.status.rawValue))</span></td>"
                s += "<td>\(rfc.obsolete ? "Obsolete: " : "")\(escapeHTML(rfc.title))</td></tr>\n"
            }
        }
        s += "</table>\n"
        return s
    }
}
