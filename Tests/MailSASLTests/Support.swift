import MailSASL

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
func text(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }

extension SASLStep {
    var failureKind: SASLError.Kind? {
        if case .failure(let error) = self { return error.kind }
        return nil
    }

    var scramError: String? {
        if case .failure(let error) = self { return error.scramError }
        return nil
    }
}
