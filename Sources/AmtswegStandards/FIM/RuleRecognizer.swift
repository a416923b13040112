import Foundation

/// A rule understood as "show `target` only while `field` has one of `values`".
struct ActivationRule: Sendable, Equatable {
    let ruleId: String
    let field: String
    let values: [String]
    let target: String
}

/// Recognises the FIM Baukasten's standard phrasing of activation rules in `freitextRegel`:
/// "Wenn [das Feld] F… "…" = CODE ["…"] [ODER = CODE ["…"]]…, dann (muss | aktiviere) … G…/F…".
///
/// Everything else (cross-field validations, "mindestens eines", date checks) is not guessed at: the
/// importer lists it in the report so that a service designer maps it by hand.
enum RuleRecognizer {
    private static let sentence = try! NSRegularExpression(
        pattern: #"wenn\s+(?:das\s+(?:daten)?feld\s+)?(F\d{8,11})\b[^=<>]*?=\s*(.+?),?\s*dann\s+(?:muss|aktiviere)\s+(?:die\s+(?:daten)?feldgruppe\s+|das\s+datenfeld\s+|die\s+gruppe\s+)?([GF]\d{8,11})\b"#,
        options: [.caseInsensitive, .dotMatchesLineSeparators])
    private static let value = try! NSRegularExpression(pattern: #"(?:^|\boder\s*=)\s*"?([0-9A-Za-z_]+)"?"#, options: [.caseInsensitive])

    /// The activations a rule's free text states, or an empty list when it says something else.
    static func activations(of rule: XDFRule) -> [ActivationRule] {
        guard let text = rule.freeText else { return [] }
        let normalised = text.replacingOccurrences(of: "\u{201E}", with: "\"").replacingOccurrences(of: "\u{201C}", with: "\"")
        var result: [ActivationRule] = []
        let range = NSRange(normalised.startIndex..., in: normalised)
        for match in sentence.matches(in: normalised, range: range) {
            guard let field = Range(match.range(at: 1), in: normalised).map({ String(normalised[$0]) }),
                  let valuesText = Range(match.range(at: 2), in: normalised).map({ String(normalised[$0]) }),
                  let target = Range(match.range(at: 3), in: normalised).map({ String(normalised[$0]) })
            else { continue }
            // Quoted labels may contain "oder"; drop them before reading the codes.
            let withoutLabels = valuesText.replacingOccurrences(of: #""[^"]*""#, with: " ", options: .regularExpression)
            let codes = value.matches(in: withoutLabels, range: NSRange(withoutLabels.startIndex..., in: withoutLabels)).compactMap {
                Range($0.range(at: 1), in: withoutLabels).map { normalisedCode(String(withoutLabels[$0])) }
            }
            guard !codes.isEmpty else { continue }
            result.append(ActivationRule(ruleId: rule.id, field: field.uppercased(), values: codes, target: target.uppercased()))
        }
        return result
    }

    private static let atLeastOnePhrase = try! NSRegularExpression(
        pattern: #"mindestens\s+(?:eines|eins|ein)\s+der\s+(?:daten)?felder\s+(.+?)\s+(?:befüllt|ausgefüllt|angegeben)"#,
        options: [.caseInsensitive, .dotMatchesLineSeparators])
    private static let fieldId = try! NSRegularExpression(pattern: #"\bF\d{8,11}\b"#)

    /// The fields of a rule saying "at least one of the fields F…, F… or F… must be filled", or nil.
    static func atLeastOne(of rule: XDFRule) -> [String]? {
        guard let text = rule.freeText else { return nil }
        let range = NSRange(text.startIndex..., in: text)
        guard let match = atLeastOnePhrase.firstMatch(in: text, range: range), let list = Range(match.range(at: 1), in: text) else { return nil }
        let listText = String(text[list])
        let ids = fieldId.matches(in: listText, range: NSRange(listText.startIndex..., in: listText)).compactMap {
            Range($0.range, in: listText).map { String(listText[$0]) }
        }
        return ids.count >= 2 ? ids : nil
    }

    /// JA/NEIN become the boolean answers "true"/"false"; codes stay as written.
    static func normalisedCode(_ code: String) -> String {
        switch code.lowercased() {
        case "ja", "true", "wahr": return "true"
        case "nein", "false", "falsch": return "false"
        default: return code
        }
    }
}
