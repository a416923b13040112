/// The kind of input a field asks for, which decides its widget, its validation and its JSON type.
public enum FieldKind: String, Codable, Sendable {
    case text, textarea, email, postalCode, integer, date, radio, file
}

/// One answer option of a radio field.
public struct FieldOption: Codable, Sendable, Equatable {
    /// Stable value stored in answers and structured output.
    public let value: String
    /// What the citizen reads.
    public let label: LocalizedText
    /// Optional explanation under the option.
    public let hint: LocalizedText?
}

/// A question on a page; `id` is unique within its page and is a FIM id where one exists.
public struct FieldDefinition: Codable, Sendable, Equatable {
    /// Stable id within the page, used as form name and JSON key.
    public let id: String
    /// FIM Datenfeld/Datenfeldgruppe id when the field comes from the FIM Baukasten.
    public let fimId: String?
    /// FIM version of `fimId`.
    public let fimVersion: String?
    /// Widget and data type.
    public let kind: FieldKind
    /// The question or label.
    public let label: LocalizedText
    /// Help text shown under the label.
    public let hint: LocalizedText?
    /// Whether an answer is needed.
    public let required: Bool
    /// Minimum length of text answers.
    public let minLength: Int?
    /// Maximum length of text answers.
    public let maxLength: Int?
    /// Smallest allowed integer.
    public let minValue: Int?
    /// Largest allowed integer.
    public let maxValue: Int?
    /// For dates: whether a date after today is refused.
    public let notInFuture: Bool?
    /// Options of a radio field.
    public let options: [FieldOption]?
    /// For files: allowed media types (checked by content).
    public let acceptedTypes: [String]?
    /// For files: maximum size in bytes.
    public let maxBytes: Int?
    /// HTML autocomplete token, for autofill and WCAG 1.3.5.
    public let autocomplete: String?

    /// The effective maximum length of a text answer.
    public var effectiveMaxLength: Int {
        maxLength ?? (kind == .textarea ? 2000 : 200)
    }
}
