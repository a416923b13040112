/// Evaluates an assistant's computed values in dependency order, and finds cycles between them.
public enum ComputedValues {
    /// The checker for computed expressions: any page, prices and other computed values allowed.
    static func checker(_ definition: AssistantDefinition) -> ExpressionChecker {
        let anywhere = PageDefinition(id: "", title: LocalizedText([:]), fields: [])
        return ExpressionChecker(definition: definition, page: anywhere, samePageFields: [], otherPages: nil, allowsPrices: true)
    }

    /// Ids of the computed values `expression` uses directly.
    static func dependencies(of expression: Expression) -> [String] {
        switch expression {
        case .integer, .text, .boolean: return []
        case .reference(_, let name): return name.hasPrefix("computed.") ? [String(name.dropFirst("computed.".count))] : []
        case .unary(_, let operand): return dependencies(of: operand)
        case .binary(_, let left, let right): return dependencies(of: left) + dependencies(of: right)
        case .call(_, let arguments): return arguments.flatMap(dependencies(of:))
        }
    }

    /// The computed value ids in an order where each comes after those it uses; throws naming a cycle.
    public static func order(_ definition: AssistantDefinition) throws(ExpressionError) -> [String] {
        var uses: [String: [String]] = [:]
        for value in definition.computed ?? [] {
            // Cached: this runs for every fee shown, not only when the definition loads.
            if let expression = ExpressionParser.cached(value.expression) {
                uses[value.id] = dependencies(of: expression)
            } else {
                uses[value.id] = dependencies(of: try ExpressionParser.parse(value.expression))
            }
        }
        var result: [String] = []
        var state: [String: Bool] = [:]  // false: on the current path, true: done
        func visit(_ id: String, path: [String]) throws(ExpressionError) {
            if state[id] == true { return }
            if state[id] == false {
                let cycle = path.drop { $0 != id } + [id]
                throw ExpressionError(message: "computed values form a cycle: \(cycle.joined(separator: " → "))")
            }
            state[id] = false
            for next in uses[id] ?? [] { try visit(next, path: path + [id]) }
            state[id] = true
            result.append(id)
        }
        for value in definition.computed ?? [] { try visit(value.id, path: []) }
        return result
    }

    /// Every computed value for `answers` under the authority's `tariff`; values that cannot be computed are left out.
    public static func evaluate(_ definition: AssistantDefinition, answers: Answers, tariff: FeeSchedule?, today: String) -> [String: Int] {
        guard let values = definition.computed, !values.isEmpty, let order = try? order(definition) else { return [:] }
        let checker = checker(definition)
        var scope = ExpressionScope(answers: answers, today: today, tariff: tariff)
        for id in order {
            guard let value = values.first(where: { $0.id == id }), let expression = ExpressionParser.cached(value.expression),
                  case .integer(let number) = checker.evaluate(expression, in: scope) else { continue }
            scope.computed[id] = number
        }
        return scope.computed
    }
}
