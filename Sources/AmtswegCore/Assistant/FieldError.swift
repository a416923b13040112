/// Why an answer was refused; each reason has its own localized message.
public enum FieldProblem: String, Sendable, Equatable {
    case required
    case tooShort
    case tooLong
    case notAnOption
    case notAnInteger
    case outOfRange
    case dateIncomplete
    case dateInvalid
    case dateInFuture
    case emailInvalid
    case postalCodeInvalid
    case fileMissing
    case fileType
    case fileTooLarge
    case fileEmpty
    case invalidCharacters
    case patternMismatch
    /// A character outside DIN SPEC 91379; `parameters["character"]` shows it.
    case latinCharacters
    /// Not a number with at most `parameters["digits"]` decimals.
    case notADecimal
    /// Not a time of day `HH:MM`.
    case timeInvalid
    /// Date given without time, or time without date.
    case datetimeIncomplete
    /// An upload ClamAV found malware in.
    case fileInfected
    /// The virus scanner could not be reached; the upload is refused rather than stored unscanned.
    case fileScanFailed
    /// A cross-field rule of the page is not met; `parameters["rule"]` names it.
    case ruleViolated
}

/// A refused answer: which field, which input element to link to, and why.
public struct FieldError: Error, Sendable, Equatable {
    /// Field id on the page.
    public let field: String
    /// The HTML id of the input the error summary links to.
    public let anchor: String
    /// The reason.
    public let problem: FieldProblem
    /// Values for the message (min, max, label, …).
    public let parameters: [String: String]

    /// Creates an error for `field`, anchored at `anchor` (defaults to the field id).
    public init(field: String, anchor: String? = nil, problem: FieldProblem, parameters: [String: String] = [:]) {
        self.field = field
        self.anchor = anchor ?? field
        self.problem = problem
        self.parameters = parameters
    }

    /// The catalog key of the message.
    public var messageKey: String { "error.\(problem.rawValue)" }
}
