import AmtswegCore
import AmtswegStorage
import Foundation

/// The template data of one assistant page: fields with their values, options and errors.
struct QuestionViewModel {
    let page: PageDefinition
    let translator: Translator

    /// Field dictionaries for the `question` template.
    func fields(values: [String: String], rawInput: [String: String]?, errors: [FieldError], attachments: [AttachmentInfo]) -> [[String: Any]] {
        let locale = translator.locale
        let singleRadio = page.fields.count == 1 && (page.fields[0].kind == .radio || page.fields[0].kind == .boolean)
        return page.fields.enumerated().map { index, field in
            var item: [String: Any] = [
                "id": field.id, "label": field.label.text(locale), "kind_\(field.kind.rawValue)": true,
                "required": field.required, "isPageHeading": singleRadio,
            ]
            if let hint = field.hint { item["hint"] = hint.text(locale); item["hintId"] = "\(field.id)-hint" }
            if let autocomplete = field.autocomplete { item["autocomplete"] = autocomplete }
            if let legend = field.legend?.text(locale), index == 0 || page.fields[index - 1].legend?.text(locale) != legend {
                item["legend"] = legend
            }
            if let error = errors.first(where: { $0.field == field.id && $0.problem != .ruleViolated }) ?? errors.first(where: { $0.field == field.id }) {
                item["error"] = message(for: error)
                item["errorId"] = "\(field.id)-error"
            }
            let current = rawInput?[field.id] ?? values[field.id] ?? ""
            item["value"] = current
            switch field.kind {
            case .select:
                let chosen = rawInput?[field.id] ?? values[field.id]
                item["choices"] = (field.options ?? []).map { option -> [String: Any] in
                    ["value": option.value, "label": option.label.text(locale), "selected": option.value == chosen]
                }
            case .boolean, .radio:
                let chosen = rawInput?[field.id] ?? values[field.id]
                let options = field.kind == .boolean
                    ? [FieldOption(value: "true", label: LocalizedText([locale.rawValue: translator("common.yes")])),
                       FieldOption(value: "false", label: LocalizedText([locale.rawValue: translator("common.no")]))]
                    : field.options ?? []
                item["kind_radio"] = true
                item["options"] = options.map { option -> [String: Any] in
                    var entry: [String: Any] = ["value": option.value, "label": option.label.text(locale), "inputId": "\(field.id)-\(option.value)",
                                                "checked": option.value == chosen]
                    // Own key names: Mustache would otherwise fall back to the field's hint for options without one.
                    if let hint = option.hint { entry["optionHint"] = hint.text(locale); entry["optionHintId"] = "\(field.id)-\(option.value)-hint" }
                    return entry
                }
            case .date:
                let stored = values[field.id]?.split(separator: "-").map(String.init) ?? []
                let part = { (name: String, index: Int) -> String in
                    rawInput?["\(field.id)-\(name)"] ?? (stored.count == 3 ? String(Int(stored[index]) ?? 0) : "")
                }
                item["day"] = part("day", 2)
                item["month"] = part("month", 1)
                item["year"] = part("year", 0)
            case .file:
                if let id = values[field.id], let existing = attachments.first(where: { $0.id == id }) {
                    item["existingFile"] = existing.filename
                }
                item["accept"] = (field.acceptedTypes ?? ["application/pdf", "image/png", "image/jpeg"]).joined(separator: ",")
            case .integer:
                item["inputmode"] = "numeric"
            case .postalCode:
                item["inputmode"] = "numeric"
            default:
                break
            }
            return item
        }
    }

    /// The localized message of a refused answer, naming the field.
    func message(for error: FieldError) -> String {
        if error.problem == .ruleViolated, let rule = page.rules?.first(where: { $0.id == error.parameters["rule"] }) {
            return rule.message.text(translator.locale)
        }
        guard let field = page.field(error.field) else { return translator(error.messageKey, error.parameters) }
        var parameters = error.parameters
        parameters["label"] = field.label.text(translator.locale)
        if error.problem == .required && field.kind == .radio { return translator("error.requiredChoice", parameters) }
        return translator(error.messageKey, parameters)
    }
}
