import Foundation

/// A table of expressions, answers and expected values that the server and the browser evaluator must both meet
/// (e2e/expression-cases.json); `amtsweg rules-table` prints the browser trees for it.
public struct RuleCaseTable: Decodable, Sendable {
    /// One expression on one set of answers.
    public struct Case: Decodable, Sendable {
        /// The expression source.
        public let expression: String
        /// Raw answers by field id, as the form holds them.
        public let values: [String: String]
        /// The value as a browser-tree literal (`{"t": "bool", "v": true}`, `{"t": "missing"}`).
        public let expected: JSONValue
    }

    /// The date `today()` stands for.
    public let today: String
    /// Field ids of the one test page and their kinds.
    public let fields: [String: FieldKind]
    /// The cases.
    public let cases: [Case]

    /// A one-page assistant holding the table's fields (radio fields offer "a" and "b").
    public func definition() -> AssistantDefinition {
        let text = LocalizedText(["de": "Test"])
        let fieldDefinitions = fields.keys.sorted().map { id in
            FieldDefinition(id: id, kind: fields[id]!, label: text, required: false,
                            options: fields[id] == .radio ? [FieldOption(value: "a", label: text), FieldOption(value: "b", label: text)] : nil)
        }
        let information = ServiceInformation(description: text, eligibility: text, requirements: [], processingTime: text, legalBasis: text)
        return AssistantDefinition(id: "rules", version: "1.0.0", leikaKey: "99000000000000", title: text, information: information,
                                   pages: [PageDefinition(id: "p", title: text, fields: fieldDefinitions)])
    }

    /// For each case: the checked expression's browser tree and the server's value as a literal; throws on an expression that does not check.
    public func evaluate() throws -> [(tree: JSONValue, server: JSONValue)] {
        let definition = definition()
        let checker = ExpressionChecker(definition: definition, page: definition.pages[0])
        return try cases.map { entry in
            let expression = try ExpressionParser.parse(entry.expression)
            _ = try checker.type(of: expression)
            let scope = ExpressionScope(values: entry.values, today: today)
            return (BrowserExpression.tree(expression, checker: checker, scope: ExpressionScope(today: today)),
                    BrowserExpression.literal(checker.evaluate(expression, in: scope)))
        }
    }
}
