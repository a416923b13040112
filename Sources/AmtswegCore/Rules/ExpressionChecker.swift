/// Resolves references against an assistant, checks types, and evaluates expressions on answers.
public struct ExpressionChecker: Sendable {
    /// What a name refers to.
    public enum Target: Sendable, Equatable {
        /// A field on a page.
        case field(page: String, FieldDefinition)
        /// `tariff.first` or `tariff.further`.
        case tariff(String)
        /// `computed.<id>`.
        case computed(String)
    }

    /// The assistant the expression belongs to.
    public let definition: AssistantDefinition
    /// The page the expression is evaluated on (for unqualified references).
    public let page: PageDefinition
    /// Fields of `page` an unqualified name may refer to (for field conditions: only the ones before).
    let samePageFields: [FieldDefinition]
    /// Pages a qualified name may refer to; nil allows every page.
    let otherPages: Set<String>?
    /// Whether `tariff.*` and `computed.*` may be used (computed values only).
    let allowsPrices: Bool

    /// Creates a checker for expressions on `page` that may refer to any field of the assistant.
    public init(definition: AssistantDefinition, page: PageDefinition) {
        self.init(definition: definition, page: page, samePageFields: page.fields, otherPages: nil, allowsPrices: false)
    }

    /// Creates a checker restricted to `samePageFields` of `page` and the pages `otherPages`.
    public init(definition: AssistantDefinition, page: PageDefinition, samePageFields: [FieldDefinition], otherPages: Set<String>?, allowsPrices: Bool) {
        self.definition = definition
        self.page = page
        self.samePageFields = samePageFields
        self.otherPages = otherPages
        self.allowsPrices = allowsPrices
    }

    /// Where a reference points.
    public func resolve(_ name: String) throws(ExpressionError) -> Target {
        if let field = samePageFields.first(where: { $0.id == name }) { return .field(page: page.id, field) }
        if page.field(name) != nil { throw ExpressionError(message: "field '\(name)' is asked after this one and cannot be used here") }
        guard let dot = name.firstIndex(of: ".") else { throw ExpressionError(message: "unknown field '\(name)'") }
        let head = String(name[..<dot]), tail = String(name[name.index(after: dot)...])
        if head == "tariff" || head == "computed" {
            guard allowsPrices else { throw ExpressionError(message: "'\(name)' can only be used in computed values") }
            if head == "tariff" {
                guard tail == "first" || tail == "further" else { throw ExpressionError(message: "unknown price '\(name)' (tariff.first or tariff.further)") }
                return .tariff(tail)
            }
            guard definition.computed?.contains(where: { $0.id == tail }) == true else { throw ExpressionError(message: "unknown computed value '\(name)'") }
            return .computed(tail)
        }
        guard let other = definition.page(head), let field = other.field(tail) else { throw ExpressionError(message: "unknown field '\(name)'") }
        if let otherPages, !otherPages.contains(other.id) {
            throw ExpressionError(message: "'\(name)' is not on an earlier page")
        }
        if other.repeat != nil { throw ExpressionError(message: "'\(name)' is on a repeated page and cannot be used in expressions") }
        return .field(page: other.id, field)
    }

    /// The expression type of a field's answers.
    static func type(of field: FieldDefinition, name: String) throws(ExpressionError) -> ExpressionType {
        switch field.kind {
        case .integer: return .integer
        case .boolean: return .boolean
        case .date: return .date
        case .time: return .time
        case .datetime: return .datetime
        case .decimal, .currency: throw ExpressionError(message: "decimal field '\(name)' can only be used in filled()")
        default: return .text
        }
    }

    /// The type of `expression`, or an error naming the first problem.
    public func type(of expression: Expression) throws(ExpressionError) -> ExpressionType {
        switch expression {
        case .integer: return .integer
        case .text: return .text
        case .boolean: return .boolean
        case .reference(_, let name):
            switch try resolve(name) {
            case .field(_, let field): return try Self.type(of: field, name: name)
            case .tariff, .computed: return .integer
            }
        case .unary(let op, let operand):
            let inner = try type(of: operand)
            if op == "not", inner == .boolean { return .boolean }
            if op == "-", inner == .integer { return .integer }
            throw ExpressionError(message: "'\(op)' cannot be applied to \(inner.rawValue)")
        case .binary(let op, let left, let right):
            let l = try type(of: left), r = try type(of: right)
            switch op {
            case "and", "or":
                guard l == .boolean, r == .boolean else { throw ExpressionError(message: "'\(op)' needs yes/no values, got \(l.rawValue) and \(r.rawValue)") }
                return .boolean
            case "==", "!=":
                guard l == r else { throw ExpressionError(message: "cannot compare \(l.rawValue) with \(r.rawValue)") }
                return .boolean
            case "<", "<=", ">", ">=":
                guard l == r, [.integer, .date, .time, .datetime].contains(l) else {
                    throw ExpressionError(message: "'\(op)' needs two numbers, dates or times, got \(l.rawValue) and \(r.rawValue)")
                }
                return .boolean
            default:
                guard l == .integer, r == .integer else { throw ExpressionError(message: "'\(op)' needs numbers, got \(l.rawValue) and \(r.rawValue)") }
                return .integer
            }
        case .call(let name, let arguments):
            switch (name, arguments.count) {
            case ("filled", 1):
                guard case .reference(_, let field) = arguments[0] else { throw ExpressionError(message: "filled() takes a field") }
                _ = try resolve(field)
                return .boolean
            case ("today", 0):
                return .date
            default:
                throw ExpressionError(message: "unknown function \(name)/\(arguments.count)")
            }
        }
    }

    /// Parses and checks a rule that must be a yes/no expression.
    public func checkRule(_ source: String) throws(ExpressionError) -> Expression {
        let expression = try ExpressionParser.parse(source)
        let result = try type(of: expression)
        guard result == .boolean else { throw ExpressionError(message: "'\(source)' is \(result.rawValue), a rule must be yes/no") }
        return expression
    }

    /// Parses and checks a computed value, which must be a number.
    public func checkComputed(_ source: String) throws(ExpressionError) -> Expression {
        let expression = try ExpressionParser.parse(source)
        let result = try type(of: expression)
        guard result == .integer else { throw ExpressionError(message: "'\(source)' is \(result.rawValue), a computed value must be a number") }
        return expression
    }

    /// Evaluates a checked expression; `values` are this page's new answers, `answers` the earlier pages'.
    public func evaluate(_ expression: Expression, values: [String: String], answers: Answers, today: String) -> ExpressionValue {
        evaluate(expression, in: ExpressionScope(values: values, answers: answers, today: today))
    }

    /// The typed value of one stored answer (empty text is `missing`).
    public static func value(raw: String?, kind: FieldKind) -> ExpressionValue {
        guard let raw, !raw.isEmpty else { return .missing }
        switch kind {
        case .integer: return Int(raw).map(ExpressionValue.integer) ?? .missing
        case .boolean: return .boolean(raw == "true")
        case .date, .time, .datetime: return .date(raw)
        default: return .text(raw)
        }
    }

    /// Evaluates a checked expression in `scope`. The browser evaluator (assets/amtsweg.js) follows the same table.
    public func evaluate(_ expression: Expression, in scope: ExpressionScope) -> ExpressionValue {
        switch expression {
        case .integer(let value): return .integer(value)
        case .text(let value): return .text(value)
        case .boolean(let value): return .boolean(value)
        case .reference(_, let name):
            switch try? resolve(name) {
            case .field(let pageId, let field)?:
                let raw = pageId == page.id ? scope.values[field.id] : scope.answers.value(page: pageId, field: field.id)
                return Self.value(raw: raw, kind: field.kind)
            case .tariff(let which)?:
                guard let tariff = scope.tariff else { return .missing }
                return .integer(which == "first" ? tariff.firstCopyCents : tariff.furtherCopyCents)
            case .computed(let id)?:
                return scope.computed[id].map(ExpressionValue.integer) ?? .missing
            case nil:
                return .missing
            }
        case .unary(let op, let operand):
            return Self.apply(op, evaluate(operand, in: scope))
        case .binary(let op, let left, let right):
            let l = evaluate(left, in: scope)
            if op == "and", l == .boolean(false) { return .boolean(false) }
            if op == "or", l == .boolean(true) { return .boolean(true) }
            return Self.apply(op, l, evaluate(right, in: scope))
        case .call(let name, let arguments):
            switch name {
            case "filled": return .boolean(evaluate(arguments[0], in: scope) != .missing)
            case "today": return .date(scope.today)
            default: return .missing
            }
        }
    }

    /// A unary operator on a value; anything else than its type gives `missing`.
    static func apply(_ op: String, _ value: ExpressionValue) -> ExpressionValue {
        switch (op, value) {
        case ("not", .boolean(let flag)): return .boolean(!flag)
        case ("-", .integer(let number)): return .integer(0 &- number)
        default: return .missing
        }
    }

    /// A binary operator on two values (after the short cuts of `and`/`or`); `missing` in, `missing` out.
    static func apply(_ op: String, _ l: ExpressionValue, _ r: ExpressionValue) -> ExpressionValue {
        switch (op, l, r) {
        case ("and", .boolean(let a), .boolean(let b)): return .boolean(a && b)
        case ("or", .boolean(let a), .boolean(let b)): return .boolean(a || b)
        case ("==", _, _) where l != .missing && r != .missing: return .boolean(l == r)
        case ("!=", _, _) where l != .missing && r != .missing: return .boolean(l != r)
        case (_, .integer(let a), .integer(let b)):
            switch op {
            case "<": return .boolean(a < b)
            case "<=": return .boolean(a <= b)
            case ">": return .boolean(a > b)
            case ">=": return .boolean(a >= b)
            case "+": return .integer(a &+ b)
            case "-": return .integer(a &- b)
            case "*": return .integer(a &* b)
            default: return .missing
            }
        case (_, .date(let a), .date(let b)):
            switch op {
            case "<": return .boolean(a < b)
            case "<=": return .boolean(a <= b)
            case ">": return .boolean(a > b)
            case ">=": return .boolean(a >= b)
            default: return .missing
            }
        default: return .missing
        }
    }
}
