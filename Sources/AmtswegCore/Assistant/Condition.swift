/// A condition on an earlier answer that decides whether a page is shown.
public struct Condition: Codable, Sendable, Equatable {
    /// The page holding the answer.
    public let page: String
    /// The field on that page.
    public let field: String
    /// The page is shown if the answer is one of these values.
    public let isOneOf: [String]?
    /// The page is shown if the answer is none of these values (and not empty).
    public let isNoneOf: [String]?
    /// Further conditions that must hold too (for pages nested under conditional pages).
    public let allOf: [Condition]?

    /// Creates a condition.
    public init(page: String, field: String, isOneOf: [String]? = nil, isNoneOf: [String]? = nil, allOf: [Condition]? = nil) {
        self.page = page
        self.field = field
        self.isOneOf = isOneOf
        self.isNoneOf = isNoneOf
        self.allOf = allOf
    }

    /// Whether the condition holds for `answers`.
    public func holds(in answers: Answers) -> Bool {
        guard let value = answers.value(page: page, field: field) else { return false }
        if let allowed = isOneOf, !allowed.contains(value) { return false }
        if let refused = isNoneOf, refused.contains(value) { return false }
        return (allOf ?? []).allSatisfy { $0.holds(in: answers) }
    }

    /// This condition and every nested one, flattened.
    public var all: [Condition] { [self] + (allOf ?? []).flatMap(\.all) }
}
