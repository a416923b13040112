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

    private enum CodingKeys: String, CodingKey { case group, id, fimId, fimVersion, label, value }

    // Written by hand so that a missing FIM id is an explicit null, as the API document promises.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(group, forKey: .group)
        try container.encode(id, forKey: .id)
        try container.encode(fimId, forKey: .fimId)
        try container.encode(fimVersion, forKey: .fimVersion)
        try container.encode(label, forKey: .label)
        try container.encode(value, forKey: .value)
    }
}

/// A JSON value, to carry typed answers through Codable.
public enum JSONValue: Codable, Sendable, Equatable {
    case string(String)
    case integer(Int)
    case bool(Bool)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let flag = try? container.decode(Bool.self) { self = .bool(flag) }
        else if let number = try? container.decode(Int.self) { self = .integer(number) }
        else if let text = try? container.decode(String.self) { self = .string(text) }
        else if let list = try? container.decode([JSONValue].self) { self = .array(list) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let text): try container.encode(text)
        case .integer(let number): try container.encode(number)
        case .bool(let flag): try container.encode(flag)
        case .array(let list): try container.encode(list)
        case .object(let dict): try container.encode(dict)
        }
    }
}

/// Turns stored answers into the typed, FIM-keyed structure a Fachverfahren receives.
public enum StructuredData {
    /// Typed values grouped by page: `{pageId: {fieldId: value}}`, in definition order.
    public static func fields(of answers: Answers, definition: AssistantDefinition) -> [StructuredField] {
        var result: [StructuredField] = []
        for page in definition.pages {
            guard let values = answers.pages[page.id] else { continue }
            for field in page.fields {
                guard let raw = values[field.id] else { continue }
                let value: JSONValue
                switch field.kind {
                case .integer: value = Int(raw).map(JSONValue.integer) ?? .string(raw)
                case .boolean: value = .bool(raw == "true")
                default: value = .string(raw)
                }
                result.append(StructuredField(
                    group: page.id, id: field.id, fimId: field.fimId, fimVersion: field.fimVersion,
                    label: field.label.text(.de), value: value))
            }
        }
        return result
    }

    /// The nested form `{pageId: {fieldId: value}}` of `fields`.
    public static func nested(_ fields: [StructuredField]) -> [String: JSONValue] {
        var groups: [String: [String: JSONValue]] = [:]
        for field in fields { groups[field.group, default: [:]][field.id] = field.value }
        return groups.mapValues(JSONValue.object)
    }
}
