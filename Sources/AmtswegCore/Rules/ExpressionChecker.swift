/// Resolves references against an assistant, checks types, and evaluates expressions on answers.
public struct ExpressionChecker: Sendable {
    /// The assistant the expression belongs to.
    public let definition: AssistantDefinition
    /// The page the expression is evaluated on (for unqualified references).
    public let page: PageDefinition

    /// Creates a checker for expressions on `page`.
    public init(definition: AssistantDefinition, page: PageDefinition) {
        self.definition = definition
        self.page = page
    }

    /// Where a reference points: (page id, field).
    func resolve(_ name: String) throws(ExpressionError) -> (String, FieldDefinition) {
        if let field = page.field(name) { return (page.id, field) }
        if let dot = name.firstIndex(of: "."), let other = definition.page(String(name[..<dot])),
           let field = other.field(String(name[name.index(after: dot)...])) {
            return (other.id, field)
        }
        throw ExpressionError(message: "unknown field '\(name)'")
    }

    /// The type of `expression`, or an error naming the first problem.
    public func type(of expression: Expression) throws(ExpressionError) -> ExpressionType {
        switch expression {
        case .integer: return .integer
        case .text: return .text
        case .boolean: return .boolean
        case .reference(_, let name):
            let (_, field) = try resolve(name)
            switch field.kind {
            case .integer: return .integer
            case .boolean: return .boolean
            case .date: return .date
            default: return .text
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
                guard l == r, l == .integer || l == .date else { throw ExpressionError(message: "'\(op)' needs two numbers or two dates, got \(l.rawValue) and \(r.rawValue)") }
                return .boolean
            default:
                guard l == .integer, r == .integer else { throw ExpressionError(message: "'\(op)' needs numbers, got \(l.rawValue) and \(r.rawValue)") }
                return .integer
            }
        case .call(let name, let arguments):
            switch (name, arguments.count) {
            case ("filled", 1):
                guard case .reference = arguments[0] else { throw ExpressionError(message: "filled() takes a field") }
                _ = try type(of: arguments[0])
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

    /// Evaluates a checked expression; `values` are this page's new answers, `answers` the earlier pages'.
    public func evaluate(_ expression: Expression, values: [String: String], answers: Answers, today: String) -> ExpressionValue {
        switch expression {
        case .integer(let value): return .integer(value)
        case .text(let value): return .text(value)
        case .boolean(let value): return .boolean(value)
        case .reference(_, let name):
            guard let (pageId, field) = try? resolve(name) else { return .missing }
            let raw = pageId == page.id ? values[field.id] : answers.value(page: pageId, field: field.id)
            guard let raw, !raw.isEmpty else { return .missing }
            switch field.kind {
            case .integer: return Int(raw).map(ExpressionValue.integer) ?? .missing
            case .boolean: return .boolean(raw == "true")
            case .date: return .date(raw)
            default: return .text(raw)
            }
        case .unary(let op, let operand):
            let value = evaluate(operand, values: values, answers: answers, today: today)
            switch (op, value) {
            case ("not", .boolean(let flag)): return .boolean(!flag)
            case ("-", .integer(let number)): return .integer(-number)
            default: return .missing
            }
        case .binary(let op, let left, let right):
            let l = evaluate(left, values: values, answers: answers, today: today)
            if op == "and", l == .boolean(false) { return .boolean(false) }
            if op == "or", l == .boolean(true) { return .boolean(true) }
            let r = evaluate(right, values: values, answers: answers, today: today)
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
                // ISO dates compare correctly as text.
                switch op {
                case "<": return .boolean(a < b)
                case "<=": return .boolean(a <= b)
                case ">": return .boolean(a > b)
                case ">=": return .boolean(a >= b)
                default: return .missing
                }
            default: return .missing
            }
        case .call(let name, let arguments):
            switch name {
            case "filled": return .boolean(evaluate(arguments[0], values: values, answers: answers, today: today) != .missing)
            case "today": return .date(today)
            default: return .missing
            }
        }
    }
}
