import Foundation

/// Plausible, valid form input for any page: what a careful citizen would type, for benchmarks and tests.
public enum SampleInput {
    /// Complete answers of `definition` made of sample input, page by page as the server validates them (uploads stand
    /// in as the value "attachment").
    public static func completeAnswers(for definition: AssistantDefinition) -> Answers {
        let flow = AssistantFlow(definition: definition)
        var answers = Answers()
        let validator = PageValidator()
        while let page = flow.firstUnansweredPage(answers) {
            let (input, uploads) = input(for: page)
            let result = validator.validate(page: page, input: input, uploads: uploads, definition: definition, answers: answers)
            var values = result.values
            for field in result.files.keys { values[field] = "attachment" }
            answers.set(page: page.id, values: values)
        }
        return answers
    }

    /// Text inputs and uploads that pass the page's field checks (every field filled, uploads only where required).
    public static func input(for page: PageDefinition) -> ([String: String], [String: UploadedFile]) {
        let (input, uploads) = entryInput(for: page)
        guard let rule = page.repeat else { return (input, uploads) }
        // One entry (or the minimum), keyed as the "add another" form names them.
        var repeated: [String: String] = [RepeatedEntries.inputCountKey: String(max(rule.min, 1))]
        var repeatedUploads: [String: UploadedFile] = [:]
        for entry in 1...max(rule.min, 1) {
            for field in page.fields {
                for suffix in RepeatedEntries.inputSuffixes {
                    if let value = input[field.id + suffix] { repeated[RepeatedEntries.key(field.id, entry: entry) + suffix] = value }
                }
                repeatedUploads[RepeatedEntries.key(field.id, entry: entry)] = uploads[field.id]
            }
        }
        return (repeated, repeatedUploads)
    }

    /// Input for the fields of one page or entry.
    static func entryInput(for page: PageDefinition) -> ([String: String], [String: UploadedFile]) {
        var input: [String: String] = [:]
        var uploads: [String: UploadedFile] = [:]
        // Every field, optional ones too: a careful citizen answers what applies, and page rules such as "phone or
        // e-mail" need more than the required fields.
        for field in page.fields where (field.required || field.kind != .file) && field.display == nil {
            switch field.kind {
            case .text, .textarea: input[field.id] = sample(field)
            case .email: input[field.id] = "erika@example.org"
            case .postalCode: input[field.id] = "01662"
            case .integer: input[field.id] = String(field.minValue ?? 1)
            case .date, .datetime:
                input["\(field.id)-day"] = "1"
                input["\(field.id)-month"] = "2"
                input["\(field.id)-year"] = "1990"
                if field.kind == .datetime { input["\(field.id)-time"] = "10:00" }
            case .decimal, .currency: input[field.id] = String(max(field.minValue ?? 1, 1))
            case .time: input[field.id] = "10:00"
            case .radio, .select: input[field.id] = field.options?.first?.value ?? ""
            case .boolean: input[field.id] = "false"
            case .file: uploads[field.id] = UploadedFile(filename: "nachweis.pdf", data: Data("%PDF-1.4\n".utf8))
            case .label: break
            }
        }
        return (input, uploads)
    }

    /// A value for a text field that satisfies its length and pattern.
    public static func sample(_ field: FieldDefinition) -> String {
        if let pattern = field.pattern {
            for candidate in ["01662", "erika@example.org", "12", "1", "12:30", "2026-01-01 12:00"] where PageValidator.matches(candidate, pattern: pattern) {
                return candidate
            }
        }
        let minimum = max(field.minLength ?? 1, 1)
        return String(repeating: "a", count: max(minimum, min(5, field.effectiveMaxLength)))
    }
}
