/// Exports the JSON Schema (draft 2020-12) of an assistant version's Fachdaten: `{pageId: {fieldId: value}}`.
///
/// Conditional pages become `if`/`then`/`else`: required when their condition holds, absent otherwise,
/// so a Fachverfahren can validate exactly what Amtswegs submits without knowing the assistant.
public enum JSONSchemaExport {
    /// The `$id` of an assistant version's schema.
    public static func schemaId(_ definition: AssistantDefinition) -> String {
        "urn:amtsweg:assistant:\(definition.id):\(definition.version)"
    }

    /// The schema document.
    public static func schema(for definition: AssistantDefinition) -> JSONValue {
        var properties: [String: JSONValue] = [:]
        var required: [JSONValue] = []
        var conditions: [JSONValue] = []
        for page in definition.pages {
            properties[page.id] = pageSchema(page)
            let mustAnswer = page.fields.contains { $0.required && $0.kind != .label && $0.showWhen == nil && ($0.optionalGroups ?? []).isEmpty }
                && (page.repeat?.min ?? 1) > 0
            // A page decided by an expression cannot be restated in JSON Schema: it is allowed, never required.
            if page.showWhen != nil { continue }
            guard let condition = page.showIf else {
                if mustAnswer { required.append(.string(page.id)) }
                continue
            }
            var branch: [String: JSONValue] = [
                "if": conditionSchema(condition, definition: definition),
                "else": .object(["not": .object(["required": .array([.string(page.id)])])]),
            ]
            if mustAnswer { branch["then"] = .object(["required": .array([.string(page.id)])]) }
            conditions.append(.object(branch))
        }
        var schema: [String: JSONValue] = [
            "$schema": .string("https://json-schema.org/draft/2020-12/schema"),
            "$id": .string(schemaId(definition)),
            "title": .string(definition.title.text(.de)),
            "description": .string("Fachdaten von \(definition.id) \(definition.version), LeiKa \(definition.leikaKey)"),
            "type": .string("object"),
            "properties": .object(properties),
            "required": .array(required),
            "additionalProperties": .bool(false),
        ]
        if !conditions.isEmpty { schema["allOf"] = .array(conditions) }
        return .object(schema)
    }

    static func pageSchema(_ page: PageDefinition) -> JSONValue {
        var properties: [String: JSONValue] = [:]
        var required: [JSONValue] = []
        for field in page.fields where field.kind != .label {
            properties[field.id] = fieldSchema(field)
            if (field.required || field.display != nil) && (field.optionalGroups ?? []).isEmpty && field.showWhen == nil { required.append(.string(field.id)) }
        }
        var schema: [String: JSONValue] = [
            "type": .string("object"), "title": .string(page.title.text(.de)),
            "properties": .object(properties), "required": .array(required), "additionalProperties": .bool(false),
        ]
        if let fimId = page.fimId { schema["x-fim-id"] = .string(fimId) }
        guard let rule = page.repeat else { return .object(schema) }
        schema["title"] = .string(rule.itemLabel.text(.de))
        return .object([
            "type": .string("array"), "title": .string(page.title.text(.de)), "items": .object(schema),
            "minItems": .integer(rule.min), "maxItems": .integer(rule.max),
        ])
    }

    static func fieldSchema(_ field: FieldDefinition) -> JSONValue {
        var schema: [String: JSONValue] = ["title": .string(field.label.text(.de))]
        if let fimId = field.fimId { schema["x-fim-id"] = .string(fimId) }
        if let version = field.fimVersion { schema["x-fim-version"] = .string(version) }
        if field.display != nil, let value = field.value {
            schema["const"] = StructuredData.typed(value, kind: field.kind)
            return .object(schema)
        }
        switch field.kind {
        case .text, .textarea:
            schema["type"] = .string("string")
            schema["minLength"] = .integer(max(field.minLength ?? 1, 1))
            schema["maxLength"] = .integer(field.effectiveMaxLength)
            if let pattern = field.pattern { schema["pattern"] = .string("^(?:\(pattern))$") }
            if field.characters == "din91379" { schema["x-characters"] = .string("DIN SPEC 91379 (String.Latin+ 1.2)") }
        case .email:
            schema["type"] = .string("string")
            schema["format"] = .string("email")
            schema["maxLength"] = .integer(254)
        case .postalCode:
            schema["type"] = .string("string")
            schema["pattern"] = .string("^[0-9]{5}$")
        case .integer:
            schema["type"] = .string("integer")
            if let minimum = field.minValue { schema["minimum"] = .integer(minimum) }
            if let maximum = field.maxValue { schema["maximum"] = .integer(maximum) }
        case .date:
            schema["type"] = .string("string")
            schema["format"] = .string("date")
            schema["pattern"] = .string("^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
        case .time:
            schema["type"] = .string("string")
            schema["pattern"] = .string("^([01][0-9]|2[0-3]):[0-5][0-9]$")
            schema["description"] = .string("Local time of day (Europe/Berlin), HH:MM")
        case .datetime:
            schema["type"] = .string("string")
            schema["pattern"] = .string("^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]$")
            schema["description"] = .string("Local date and time (Europe/Berlin), YYYY-MM-DDTHH:MM")
        case .decimal, .currency:
            schema["type"] = .string("number")
            if let minimum = field.minValue { schema["minimum"] = .integer(minimum) }
            if let maximum = field.maxValue { schema["maximum"] = .integer(maximum) }
            if field.kind == .currency { schema["x-unit"] = .string("EUR") }
        case .radio, .select:
            schema["type"] = .string("string")
            schema["enum"] = .array((field.options ?? []).map { .string($0.value) })
            if let codeList = field.codeList { schema["x-codelist"] = .string(codeList) }
        case .boolean:
            schema["type"] = .string("boolean")
        case .label:
            break
        case .file:
            schema["type"] = .string("string")
            schema["format"] = .string("uuid")
            schema["description"] = .string("Id of the attachment in the application's attachments list")
        }
        return .object(schema)
    }

    /// The `if` of a page condition, with nested conditions, comparing typed values as the data holds them.
    static func conditionSchema(_ condition: Condition, definition: AssistantDefinition) -> JSONValue {
        let parts = condition.all.map { single -> JSONValue in
            let kind = definition.page(single.page)?.field(single.field)?.kind
            let typed = { (raw: String) -> JSONValue in
                switch kind {
                case .boolean: return .bool(raw == "true")
                case .integer: return Int(raw).map(JSONValue.integer) ?? .string(raw)
                default: return .string(raw)
                }
            }
            var value: [String: JSONValue] = [:]
            if let allowed = single.isOneOf { value["enum"] = .array(allowed.map(typed)) }
            if let refused = single.isNoneOf { value["not"] = .object(["enum": .array(refused.map(typed))]) }
            return .object([
                "properties": .object([single.page: .object([
                    "properties": .object([single.field: .object(value)]),
                    "required": .array([.string(single.field)]),
                ])]),
                "required": .array([.string(single.page)]),
            ])
        }
        return parts.count == 1 ? parts[0] : .object(["allOf": .array(parts)])
    }
}
