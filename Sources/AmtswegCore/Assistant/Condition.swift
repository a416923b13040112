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

    /// Whether the condition holds for `answers`.
    public func holds(in answers: Answers) -> Bool {
        guard let value = answers.value(page: page, field: field) else { return false }
        if let allowed = isOneOf, !allowed.contains(value) { return false }
        if let refused = isNoneOf, refused.contains(value) { return false }
        return true
    }
}
