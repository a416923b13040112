/// The kind of input a field asks for, which decides its widget, its validation and its JSON type.
public enum FieldKind: String, Codable, Sendable {
    case text, textarea, email, postalCode, integer, date, radio, select, boolean, file
    /// A number with `fractionDigits` decimals (FIM num), and a euro amount with two (FIM num_currency).
    case decimal, currency
    /// A time of day `HH:MM`, and a date with a time (FIM time, datetime).
    case time, datetime
    /// Shows text only; takes no answer.
    case label
}

/// One answer option of a radio field.
public struct FieldOption: Codable, Sendable, Equatable {
    /// Stable value stored in answers and structured output.
    public let value: String
    /// What the citizen reads.
    public let label: LocalizedText
    /// Optional explanation under the option.
    public let hint: LocalizedText?

    /// Creates an option.
    public init(value: String, label: LocalizedText, hint: LocalizedText? = nil) {
        self.value = value
        self.label = label
        self.hint = hint
    }
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
    /// Options of a radio or select field (for code lists: filled in when the code list is resolved).
    public internal(set) var options: [FieldOption]?
    /// For files: allowed media types (checked by content).
    public let acceptedTypes: [String]?
    /// For files: maximum size in bytes.
    public let maxBytes: Int?
    /// HTML autocomplete token, for autofill and WCAG 1.3.5.
    public let autocomplete: String?
    /// A regular expression the whole text answer must match (XSD-style, implicitly anchored).
    public let pattern: String?
    /// Canonical URI of the genericode code list a select field takes its options from.
    public let codeList: String?
    /// Heading of the group the field belongs to, shown when it differs from the previous field's.
    public let legend: LocalizedText?
    /// Paths of optional groups the field sits in: it is required only when each of them is in use.
    public let optionalGroups: [String]?
    /// A yes/no expression: the field is asked only when it holds (see `ExpressionParser`).
    public let showWhen: String?
    /// Decimals of a `decimal` field (1...4); `currency` always has two.
    public let fractionDigits: Int?
    /// A character-set restriction: `din91379` allows only the Latin characters of DIN SPEC 91379 (FIM text_latin).
    public let characters: String?
    /// FIM Feldart `hidden` (not shown, submitted) or `locked` (shown read-only, submitted); needs `value`.
    public let display: String?
    /// The fixed answer of a hidden or locked field.
    public let value: String?

    /// Creates a field; everything but id, kind, label and required is optional.
    public init(
        id: String, fimId: String? = nil, fimVersion: String? = nil, kind: FieldKind, label: LocalizedText,
        hint: LocalizedText? = nil, required: Bool, minLength: Int? = nil, maxLength: Int? = nil, minValue: Int? = nil,
        maxValue: Int? = nil, notInFuture: Bool? = nil, options: [FieldOption]? = nil, acceptedTypes: [String]? = nil,
        maxBytes: Int? = nil, autocomplete: String? = nil, pattern: String? = nil, codeList: String? = nil,
        legend: LocalizedText? = nil, optionalGroups: [String]? = nil, showWhen: String? = nil, fractionDigits: Int? = nil,
        characters: String? = nil, display: String? = nil, value: String? = nil
    ) {
        self.id = id
        self.fimId = fimId
        self.fimVersion = fimVersion
        self.kind = kind
        self.label = label
        self.hint = hint
        self.required = required
        self.minLength = minLength
        self.maxLength = maxLength
        self.minValue = minValue
        self.maxValue = maxValue
        self.notInFuture = notInFuture
        self.options = options
        self.acceptedTypes = acceptedTypes
        self.maxBytes = maxBytes
        self.autocomplete = autocomplete
        self.pattern = pattern
        self.codeList = codeList
        self.legend = legend
        self.optionalGroups = optionalGroups
        self.showWhen = showWhen
        self.fractionDigits = fractionDigits
        self.characters = characters
        self.display = display
        self.value = value
    }

    /// Decimals a `decimal` or `currency` answer may have.
    public var decimals: Int { kind == .currency ? 2 : min(max(fractionDigits ?? 2, 1), 4) }

    /// The effective maximum length of a text answer.
    public var effectiveMaxLength: Int {
        maxLength ?? (kind == .textarea ? 2000 : 200)
    }
}
