/// A text given in several languages, keyed by locale code; German is always present.
public struct LocalizedText: Codable, Sendable, Equatable {
    /// Locale code to text.
    public let values: [String: String]

    /// Creates a text from locale-keyed values.
    public init(_ values: [String: String]) { self.values = values }

    /// The text in `locale`, falling back to German.
    public func text(_ locale: AppLocale) -> String {
        values[locale.rawValue] ?? values[AppLocale.fallback.rawValue] ?? ""
    }

    public init(from decoder: any Decoder) throws {
        values = try decoder.singleValueContainer().decode([String: String].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(values)
    }
}
