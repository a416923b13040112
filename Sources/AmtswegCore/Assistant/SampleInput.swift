import Foundation

/// Plausible, valid form input for any page: what a careful citizen would type, for benchmarks and tests.
public enum SampleInput {
    /// Text inputs and uploads that pass the page's field checks (required fields and booleans filled).
    public static func input(for page: PageDefinition) -> ([String: String], [String: UploadedFile]) {
        var input: [String: String] = [:]
        var uploads: [String: UploadedFile] = [:]
        for field in page.fields where field.required || field.kind == .boolean {
            switch field.kind {
            case .text, .textarea: input[field.id] = sample(field)
            case .email: input[field.id] = "erika@example.org"
            case .postalCode: input[field.id] = "01662"
            case .integer: input[field.id] = String(field.minValue ?? 1)
            case .date:
                input["\(field.id)-day"] = "1"
                input["\(field.id)-month"] = "2"
                input["\(field.id)-year"] = "1990"
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
