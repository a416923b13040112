/// Turns a checked expression into the JSON tree the browser evaluator (assets/amtsweg.js) runs.
///
/// Only answers of the page being filled in stay references; answers of other pages, prices, computed values and
/// `today()` are known on the server and are written in as values, so the browser needs nothing else.
public enum BrowserExpression {
    /// The tree of `expression` on `checker`'s page, with everything outside the page taken from `scope`.
    public static func tree(_ expression: Expression, checker: ExpressionChecker, scope: ExpressionScope) -> JSONValue {
        switch expression {
        case .integer, .text, .boolean:
            return literal(checker.evaluate(expression, in: scope))
        case .reference(_, let name):
            if case .field(let pageId, let field)? = try? checker.resolve(name), pageId == checker.page.id {
                return .object(["t": .string("ref"), "id": .string(field.id), "kind": .string(field.kind.rawValue)])
            }
            return literal(checker.evaluate(expression, in: scope))
        case .unary(let op, let operand):
            return .object(["t": .string("unary"), "op": .string(op), "a": tree(operand, checker: checker, scope: scope)])
        case .binary(let op, let left, let right):
            return .object(["t": .string("binary"), "op": .string(op), "a": tree(left, checker: checker, scope: scope),
                            "b": tree(right, checker: checker, scope: scope)])
        case .call(let name, let arguments):
            if name == "filled", let argument = arguments.first {
                return .object(["t": .string("filled"), "a": tree(argument, checker: checker, scope: scope)])
            }
            return literal(checker.evaluate(expression, in: scope))
        }
    }

    /// A value as a tree leaf.
    public static func literal(_ value: ExpressionValue) -> JSONValue {
        switch value {
        case .integer(let number): return .object(["t": .string("int"), "v": .integer(number)])
        case .text(let text): return .object(["t": .string("text"), "v": .string(text)])
        case .boolean(let flag): return .object(["t": .string("bool"), "v": .bool(flag)])
        case .date(let text): return .object(["t": .string("date"), "v": .string(text)])
        case .missing: return .object(["t": .string("missing")])
        }
    }
}
