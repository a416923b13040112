/// A parsed rule expression: references to answers, literals, operators and a few functions.
public indirect enum Expression: Sendable, Equatable {
    case integer(Int)
    case text(String)
    case boolean(Bool)
    /// An answer: `field` on the same page or `page.field`.
    case reference(page: String?, field: String)
    case unary(String, Expression)
    case binary(String, Expression, Expression)
    case call(String, [Expression])
}

/// The types the language knows.
public enum ExpressionType: String, Sendable, Equatable {
    case integer, text, boolean, date
}

/// A value during evaluation; `missing` is an unanswered field.
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
