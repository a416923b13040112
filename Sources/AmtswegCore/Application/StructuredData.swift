import Foundation

/// One answer in the structured output, with its FIM provenance.
public struct StructuredField: Codable, Sendable, Equatable {
    /// Page (group) id.
    public let group: String
    /// Field id within the group.
    public let id: String
    /// FIM id where it exists.
    public let fimId: String?
    /// FIM version where it exists.
    public let fimVersion: String?
    /// German label, for humans reading the raw data.
    public let label: String
    /// The typed value.
    public let value: JSONValue
    /// The entry number (1-based) on a repeated page; nil elsewhere.
    public let entry: Int?

    /// Creates a field of the structured output.
    public init(group: String, id: String, fimId: String?, fimVersion: String?, label: String, value: JSONValue, entry: Int? = nil) {
        self.group = group
        self.id = id
        self.fimId = fimId
        self.fimVersion = fimVersion
        self.label = label
        self.value = value
        self.entry = entry
    }

    private enum CodingKeys: String, CodingKey { case group, id, fimId, fimVersion, label, value, entry }

    // Written by hand so that a missing FIM id is an explicit null, as the API document promises.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(group, forKey: .group)
        try container.encode(id, forKey: .id)
        try container.encode(fimId, forKey: .fimId)
        try container.encode(fimVersion, forKey: .fimVersion)
        try container.encode(label, forKey: .label)
        try container.encode(value, forKey: .value)
        try container.encodeIfPresent(entry, forKey: .entry)
    }
}

/// A JSON value, to carry typed answers through Codable.
public enum JSONValue: Codable, Sendable, Equatable {
    case string(String)
    case integer(Int)
    /// A decimal number, kept exact (decimal and currency answers).
    case number(Decimal)
    case bool(Bool)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let flag = try? container.decode(Bool.self) { self = .bool(flag) }
        else if let number = try? container.decode(Int.self) { self = .integer(number) }
        else if let number = try? container.decode(Decimal.self) { self = .number(number) }
        else if let text = try? container.decode(String.self) { self = .string(text) }
        else if let list = try? container.decode([JSONValue].self) { self = .array(list) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let text): try container.encode(text)
        case .integer(let number): try container.encode(number)
        case .number(let number): try container.encode(number)
        case .bool(let flag): try container.encode(flag)
        case .array(let list): try container.encode(list)
        case .object(let dict): try container.encode(dict)
        }
    }
}

/// Turns stored answers into the typed, FIM-keyed structure a Fachverfahren receives.
public enum StructuredData {
    /// Typed values in definition order; a repeated page gives one field per entry and answer.
    public static func fields(of answers: Answers, definition: AssistantDefinition) -> [StructuredField] {
        var result: [StructuredField] = []
        for page in definition.pages {
            guard let values = answers.pages[page.id] else { continue }
            let entries: [(Int?, [String: String])]
            if let rule = page.repeat {
                let count = RepeatedEntries.count(values: values, rule: rule)
                entries = count == 0 ? [] : (1...count).map { ($0, RepeatedEntries.entry($0, of: values, page: page)) }
            } else {
                entries = [(nil, values)]
            }
            for (entry, entryValues) in entries {
                for field in page.fields {
                    guard let raw = entryValues[field.id] else { continue }
                    result.append(StructuredField(
                        group: page.id, id: field.id, fimId: field.fimId, fimVersion: field.fimVersion,
                        label: field.label.text(.de), value: typed(raw, kind: field.kind), entry: entry))
                }
            }
        }
        return result
    }

    /// The JSON value of a stored answer of `kind`.
    public static func typed(_ raw: String, kind: FieldKind) -> JSONValue {
        switch kind {
        case .integer: return Int(raw).map(JSONValue.integer) ?? .string(raw)
        case .decimal, .currency: return Decimal(string: raw, locale: Locale(identifier: "en_US_POSIX")).map(JSONValue.number) ?? .string(raw)
        case .boolean: return .bool(raw == "true")
        default: return .string(raw)
        }
    }

    /// The nested form `{pageId: {fieldId: value}}` of `fields`; repeated pages as `{pageId: [{fieldId: value}]}`.
    public static func nested(_ fields: [StructuredField]) -> [String: JSONValue] {
        var groups: [String: [String: JSONValue]] = [:]
        var entries: [String: [Int: [String: JSONValue]]] = [:]
        for field in fields {
            if let entry = field.entry {
                entries[field.group, default: [:]][entry, default: [:]][field.id] = field.value
            } else {
                groups[field.group, default: [:]][field.id] = field.value
            }
        }
        var result = groups.mapValues(JSONValue.object)
        for (group, byEntry) in entries {
            result[group] = .array(byEntry.keys.sorted().map { JSONValue.object(byEntry[$0]!) })
        }
        return result
    }
}
