/// A parsed rule expression: references to answers, literals, operators and a few functions.
public indirect enum Expression: Sendable, Equatable {
    case integer(Int)
    case text(String)
    case boolean(Bool)
    /// An answer: `field` on the same page or `page.field`; also `computed.<id>` and `tariff.first|further`.
    case reference(page: String?, field: String)
    case unary(String, Expression)
    case binary(String, Expression, Expression)
    case call(String, [Expression])
}

/// The types the language knows.
public enum ExpressionType: String, Sendable, Equatable {
    case integer, text, boolean, date, time, datetime
}

/// A value during evaluation; `missing` is an unanswered field. Dates, times and datetimes are ISO text
/// (`YYYY-MM-DD`, `HH:MM`, `YYYY-MM-DDTHH:MM`), which orders correctly as text.
public enum ExpressionValue: Sendable, Equatable {
    case integer(Int)
    case text(String)
    case boolean(Bool)
    case date(String)
    case missing
}

/// Why an expression was refused when the definition loaded.
public struct ExpressionError: Error, Equatable, CustomStringConvertible {
    /// What is wrong, naming the token or reference.
    public let message: String
    public var description: String { message }
}

/// What an expression is evaluated against: this page's answers so far, earlier pages, the day, prices and computed values.
public struct ExpressionScope: Sendable {
    /// The current page's (or entry's) answers, by field id.
    public var values: [String: String]
    /// The answers of the other pages.
    public var answers: Answers
    /// Today as `YYYY-MM-DD` (German civil time).
    public var today: String
    /// The authority's prices, for `tariff.first` and `tariff.further`.
    public var tariff: FeeSchedule?
    /// Computed values already known, by id.
    public var computed: [String: Int]

    /// Creates a scope.
    public init(values: [String: String] = [:], answers: Answers = Answers(), today: String, tariff: FeeSchedule? = nil, computed: [String: Int] = [:]) {
        self.values = values
        self.answers = answers
        self.today = today
        self.tariff = tariff
        self.computed = computed
    }
}
