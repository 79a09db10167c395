import MailAddress
import SMTPProtocol

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

func text(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }

func domain(_ s: String) -> Domain {
    guard let d = Domain.parse(s) else { fatalError("bad test domain \(s)") }
    return d
}

func mailbox(_ localpart: String, _ host: String) -> SMTPMailbox {
    SMTPMailbox(localpart: Localpart(uncheckedValue: localpart), host: .domain(domain(host)))
}

func parse(_ line: String, smtputf8: Bool = false, pedantic: Bool = false) -> Result<SMTPCommand, SMTPSyntaxError> {
    Result { () throws(SMTPSyntaxError) in
        try SMTPCommandParser.parse(
            line: bytes(line),
            options: SMTPParserOptions(smtputf8: smtputf8, pedantic: pedantic)
        )
    }
}

/// "550 5.6.7" style summary of a failure, or "ok".
func codes(_ r: Result<SMTPCommand, SMTPSyntaxError>) -> String {
    switch r {
    case .success: return "ok"
    case .failure(let e): return "\(e.reply.code) \(e.reply.enhanced.map { "\($0)" } ?? "-")"
    }
}

func mailParams(_ f: (inout MailParameters) -> Void) -> MailParameters {
    var p = MailParameters()
    f(&p)
    return p
}

func rcptParams(_ f: (inout RcptParameters) -> Void) -> RcptParameters {
    var p = RcptParameters()
    f(&p)
    return p
}
