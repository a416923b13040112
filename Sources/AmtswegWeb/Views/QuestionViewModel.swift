import AmtswegCore
import AmtswegStorage
import Foundation

/// The template data of one assistant page: fields (or entries of fields) with their values, options, errors and conditions.
struct QuestionViewModel {
    let page: PageDefinition
    let translator: Translator
    /// The assistant, the other pages' answers and the flow, to decide field conditions.
    let flow: AssistantFlow
    let answers: Answers

    /// Field dictionaries for the `question` template; a repeated page lists its entries one after another.
    func fields(values: [String: String], rawInput: [String: String]?, errors: [FieldError], attachments: [AttachmentInfo]) -> [[String: Any]] {
        guard let rule = page.repeat else {
            return page.fields.enumerated().compactMap { index, field in
                item(field, index: index, key: field.id, entry: nil, values: values, rawInput: rawInput, errors: errors, attachments: attachments)
            }
        }
        let count = entryCount(values: values, rawInput: rawInput)
        var items: [[String: Any]] = []
        for entry in (count > 0 ? Array(1...count) : []) {
            var entryItems = page.fields.enumerated().compactMap { index, field in
                item(field, index: index, key: RepeatedEntries.key(field.id, entry: entry), entry: entry, values: values, rawInput: rawInput,
                     errors: errors, attachments: attachments)
            }
            guard !entryItems.isEmpty else { continue }
            let name = "\(rule.itemLabel.text(translator.locale)) \(entry)"
            entryItems[0]["entryHeading"] = name
            if count > rule.min {
                entryItems[entryItems.count - 1]["removeEntry"] = String(entry)
                entryItems[entryItems.count - 1]["removeLabel"] = translator("question.removeEntry", ["item": name])
            }
            items += entryItems
        }
        return items
    }

    /// How many entries a repeated page shows: the form's count, else the saved one, else the minimum (at least one).
    func entryCount(values: [String: String], rawInput: [String: String]?) -> Int {
        guard let rule = page.repeat else { return 1 }
        if let rawInput, rawInput[RepeatedEntries.inputCountKey] != nil { return RepeatedEntries.count(input: rawInput, rule: rule) }
        return RepeatedEntries.count(values: values, rule: rule)
    }

    /// One field's template data under form name `key`; nil when its condition, decided on the server, hides it.
    private func item(
        _ field: FieldDefinition, index: Int, key: String, entry: Int?, values: [String: String], rawInput: [String: String]?,
        errors: [FieldError], attachments: [AttachmentInfo]
    ) -> [String: Any]? {
        let locale = translator.locale
        if field.display == "hidden" { return nil }
        if field.display == "locked" {
            let shown = field.options?.first { $0.value == field.value }?.label.text(locale) ?? field.value ?? ""
            var locked: [String: Any] = ["id": key, "label": field.label.text(locale), "locked": true, "lockedValue": shown]
            if let hint = field.hint { locked["hint"] = hint.text(locale) }
            return locked
        }
        var item: [String: Any] = [
            "id": key, "label": field.label.text(locale), "kind_\(field.kind.rawValue)": true,
            "required": field.required, "isPageHeading": isSingleQuestion,
        ]
        if let showWhen = field.showWhen {
            guard let condition = browserCondition(showWhen, entry: entry, values: values, rawInput: rawInput) else { return nil }
            if let tree = condition {
                item["when"] = tree
                if let entry { item["entryNumber"] = String(entry) }
            }
        }
        if let hint = field.hint { item["hint"] = hint.text(locale); item["hintId"] = "\(key)-hint" }
        if let autocomplete = field.autocomplete { item["autocomplete"] = autocomplete }
        if let legend = field.legend?.text(locale), index == 0 || page.fields[index - 1].legend?.text(locale) != legend {
            item["legend"] = legend
        }
        if let error = errors.first(where: { $0.field == key && $0.problem != .ruleViolated }) ?? errors.first(where: { $0.field == key }) {
            item["error"] = message(for: error)
            item["errorId"] = "\(key)-error"
        }
        let stored = values[key]
        let current = rawInput?[key] ?? stored ?? ""
        item["value"] = current
        switch field.kind {
        case .select:
            let chosen = rawInput?[key] ?? stored
            item["choices"] = (field.options ?? []).map { option -> [String: Any] in
                ["value": option.value, "label": option.label.text(locale), "selected": option.value == chosen]
            }
        case .boolean, .radio:
            let chosen = rawInput?[key] ?? stored
            let options = field.kind == .boolean
                ? [FieldOption(value: "true", label: LocalizedText([locale.rawValue: translator("common.yes")])),
                   FieldOption(value: "false", label: LocalizedText([locale.rawValue: translator("common.no")]))]
                : field.options ?? []
            item["kind_radio"] = true
            item["options"] = options.map { option -> [String: Any] in
                var entry: [String: Any] = ["value": option.value, "label": option.label.text(locale), "inputId": "\(key)-\(option.value)",
                                            "checked": option.value == chosen]
                // Own key names: Mustache would otherwise fall back to the field's hint for options without one.
                if let hint = option.hint { entry["optionHint"] = hint.text(locale); entry["optionHintId"] = "\(key)-\(option.value)-hint" }
                return entry
            }
        case .date, .datetime:
            let datePart = stored?.split(separator: "T").first.map(String.init)
            let parts = datePart?.split(separator: "-").map(String.init) ?? []
            let part = { (name: String, index: Int) -> String in
                rawInput?["\(key)-\(name)"] ?? (parts.count == 3 ? String(Int(parts[index]) ?? 0) : "")
            }
            item["day"] = part("day", 2)
            item["month"] = part("month", 1)
            item["year"] = part("year", 0)
            if field.kind == .datetime {
                item["kind_date"] = true
                item["timeValue"] = rawInput?["\(key)-time"] ?? stored?.split(separator: "T").dropFirst().first.map(String.init) ?? ""
            }
        case .file:
            if let id = stored, let existing = attachments.first(where: { $0.id == id }) {
                item["existingFile"] = existing.filename
            }
            item["accept"] = (field.acceptedTypes ?? ["application/pdf", "image/png", "image/jpeg"]).joined(separator: ",")
        case .integer, .postalCode:
            item["inputmode"] = "numeric"
            item["kind_text"] = true
        case .decimal, .currency:
            item["inputmode"] = "decimal"
            item["kind_text"] = true
            item["narrow"] = true
            if let stored, rawInput?[key] == nil, locale == .de { item["value"] = stored.replacingOccurrences(of: ".", with: ",") }
            if field.kind == .currency { item["suffix"] = "€" }
        case .time:
            item["kind_text"] = true
            item["narrow"] = true
            if field.hint == nil { item["hint"] = translator("question.timeHint"); item["hintId"] = "\(key)-hint" }
        case .email, .text:
            item["kind_text"] = true
        default:
            break
        }
        return item
    }

    /// Whether the page is one radio question whose label is the page heading.
    var isSingleQuestion: Bool {
        page.repeat == nil && page.fields.count == 1 && (page.fields[0].kind == .radio || page.fields[0].kind == .boolean)
    }

    /// The browser tree of a field condition: `.some(nil)` when the server already knows it holds, `.some(tree)` when
    /// it depends on answers on this page, nil when the server knows it does not hold.
    private func browserCondition(_ source: String, entry: Int?, values: [String: String], rawInput: [String: String]?) -> String?? {
        guard let expression = ExpressionParser.cached(source) else { return .some(nil) }
        let checker = ExpressionChecker(definition: flow.definition, page: page)
        let scope = ExpressionScope(answers: answers, today: flow.today)
        let tree = BrowserExpression.tree(expression, checker: checker, scope: scope)
        guard Self.hasReference(tree) else {
            return checker.evaluate(expression, in: scope) == .boolean(true) ? .some(nil) : nil
        }
        let data = (try? JSONEncoder().encode(tree)) ?? Data()
        return .some(String(decoding: data, as: UTF8.self))
    }

    /// Whether a browser tree still reads an answer of this page.
    static func hasReference(_ tree: JSONValue) -> Bool {
        switch tree {
        case .object(let node): return node["t"] == .string("ref") || node.values.contains(where: hasReference)
        case .array(let list): return list.contains(where: hasReference)
        default: return false
        }
    }

    /// The localized message of a refused answer, naming the field (and the entry on repeated pages).
    func message(for error: FieldError) -> String {
        if error.problem == .ruleViolated, let rule = page.rules?.first(where: { $0.id == error.parameters["rule"] }) {
            let text = rule.message.text(translator.locale)
            guard let entry = error.parameters["entry"], let item = page.repeat?.itemLabel.text(translator.locale) else { return text }
            return "\(item) \(entry): \(text)"
        }
        let fieldId = error.field.firstIndex(of: "[").map { String(error.field[..<$0]) } ?? error.field
        guard let field = page.field(fieldId) else { return translator(error.messageKey, error.parameters) }
        var parameters = error.parameters
        parameters["label"] = field.label.text(translator.locale)
        if let entry = error.parameters["entry"], let item = page.repeat?.itemLabel.text(translator.locale) {
            parameters["label"] = "\(field.label.text(translator.locale)) (\(item) \(entry))"
        }
        if error.problem == .required && field.kind == .radio { return translator("error.requiredChoice", parameters) }
        return translator(error.messageKey, parameters)
    }
}
