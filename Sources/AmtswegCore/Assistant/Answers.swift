/// The normalised answers of one application: page id → field id → value as text.
///
/// Values are stored in a canonical text form (dates as `YYYY-MM-DD`, integers as digits, files as
/// attachment ids); `StructuredData` turns them into typed JSON.
public struct Answers: Codable, Sendable, Equatable {
    /// Page id to field id to value.
    public private(set) var pages: [String: [String: String]]

    /// Empty answers.
    public init(pages: [String: [String: String]] = [:]) { self.pages = pages }

    /// The answer to `field` on `page`, if given.
    public func value(page: String, field: String) -> String? { pages[page]?[field] }

    /// Whether the page has been answered (saved at least once).
    public func hasAnswered(page: String) -> Bool { pages[page] != nil }

    /// Replaces every answer of one page.
    public mutating func set(page: String, values: [String: String]) { pages[page] = values }

    /// Removes the answers of pages that are no longer shown, so hidden answers are never submitted.
    public mutating func keepOnly(pages visible: Set<String>) {
        pages = pages.filter { visible.contains($0.key) }
    }
}
