import Synchronization

/// Parses rule expressions such as `filled(F60000000240) or filled(F60000000242)` or `copies.copies <= 5`.
///
/// Grammar: or := and ("or" and)* ; and := not ("and" not)* ; not := "not" not | cmp ;
/// cmp := add (("=="|"!="|"<"|"<="|">"|">=") add)? ; add := mul (("+"|"-") mul)* ; mul := unary ("*" unary)* ;
/// unary := "-" unary | primary ; primary := INT | "text" | true | false | name ["." name] | name "(" args ")" | "(" or ")".
public struct ExpressionParser {
    private enum Token: Equatable {
        case number(Int), string(String), name(String), symbol(String), end
    }

    private var tokens: [Token] = []
    private var position = 0

    /// Parses `source` or throws a message naming the offending token.
    public static func parse(_ source: String) throws(ExpressionError) -> Expression {
        var parser = ExpressionParser()
        parser.tokens = try tokenize(source)
        let expression = try parser.parseOr()
        guard parser.peek == .end else { throw ExpressionError(message: "unexpected \(parser.describe(parser.peek)) in '\(source)'") }
        return expression
    }

    /// Parsed expressions by source; definitions are checked when loaded, so requests only ever look sources up.
    private static let cache = Mutex<[String: Expression]>([:])

    /// `parse(source)`, remembered per source text; nil when the source does not parse.
    public static func cached(_ source: String) -> Expression? {
        if let known = cache.withLock({ $0[source] }) { return known }
        guard let expression = try? parse(source) else { return nil }
        cache.withLock { $0[source] = expression }
        return expression
    }

    private var peek: Token { tokens[position] }

    private mutating func next() -> Token {
        defer { position += 1 }
        return tokens[position]
    }

    private mutating func accept(_ symbol: String) -> Bool {
        if peek == .symbol(symbol) || peek == .name(symbol) { position += 1; return true }
        return false
    }

    private mutating func parseOr() throws(ExpressionError) -> Expression {
        var left = try parseAnd()
        while accept("or") { left = .binary("or", left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws(ExpressionError) -> Expression {
        var left = try parseNot()
        while accept("and") { left = .binary("and", left, try parseNot()) }
        return left
    }

    private mutating func parseNot() throws(ExpressionError) -> Expression {
        if accept("not") { return .unary("not", try parseNot()) }
        return try parseComparison()
    }

    private mutating func parseComparison() throws(ExpressionError) -> Expression {
        let left = try parseAdditive()
        for op in ["==", "!=", "<=", ">=", "<", ">"] where accept(op) {
            return .binary(op, left, try parseAdditive())
        }
        return left
    }

    private mutating func parseAdditive() throws(ExpressionError) -> Expression {
        var left = try parseMultiplicative()
        while true {
            if accept("+") { left = .binary("+", left, try parseMultiplicative()) } else if accept("-") {
                left = .binary("-", left, try parseMultiplicative())
            } else { return left }
        }
    }

    private mutating func parseMultiplicative() throws(ExpressionError) -> Expression {
        var left = try parseUnary()
        while accept("*") { left = .binary("*", left, try parseUnary()) }
        return left
    }

    private mutating func parseUnary() throws(ExpressionError) -> Expression {
        if accept("-") { return .unary("-", try parseUnary()) }
        return try parsePrimary()
    }

    private mutating func parsePrimary() throws(ExpressionError) -> Expression {
        let token = next()
        switch token {
        case .number(let value): return .integer(value)
        case .string(let value): return .text(value)
        case .name("true"): return .boolean(true)
        case .name("false"): return .boolean(false)
        case .name(let name):
            if accept("(") {
                var arguments: [Expression] = []
                if !accept(")") {
                    repeat { arguments.append(try parseOr()) } while accept(",")
                    guard accept(")") else { throw ExpressionError(message: "missing ')' after arguments of \(name)") }
                }
                return .call(name, arguments)
            }
            var dotted = name
            while accept(".") {
                guard case .name(let part) = next() else { throw ExpressionError(message: "expected a field id after '\(dotted).'") }
                dotted += "." + part
            }
            // Resolved by the checker: a field key on the same page, else "page.field".
            return .reference(page: nil, field: dotted)
        case .symbol("("):
            let inner = try parseOr()
            guard accept(")") else { throw ExpressionError(message: "missing ')'") }
            return inner
        default:
            throw ExpressionError(message: "unexpected \(describe(token))")
        }
    }

    private func describe(_ token: Token) -> String {
        switch token {
        case .number(let value): return "number \(value)"
        case .string(let value): return "text \"\(value)\""
        case .name(let value): return "'\(value)'"
        case .symbol(let value): return "'\(value)'"
        case .end: return "end of expression"
        }
    }

    private static func tokenize(_ source: String) throws(ExpressionError) -> [Token] {
        var tokens: [Token] = []
        let characters = Array(source)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character.isWhitespace { index += 1; continue }
            if character.isASCII && character.isNumber {
                var end = index
                while end < characters.count, characters[end].isASCII, characters[end].isNumber { end += 1 }
                guard let value = Int(String(characters[index..<end])) else { throw ExpressionError(message: "number too large") }
                tokens.append(.number(value))
                index = end
            } else if character.isLetter || character == "_" {
                var end = index
                while end < characters.count, characters[end].isLetter || characters[end].isNumber || characters[end] == "_" || characters[end] == "-" { end += 1 }
                tokens.append(.name(String(characters[index..<end])))
                index = end
            } else if character == "\"" || character == "'" {
                var end = index + 1
                while end < characters.count, characters[end] != character { end += 1 }
                guard end < characters.count else { throw ExpressionError(message: "unterminated text literal") }
                tokens.append(.string(String(characters[(index + 1)..<end])))
                index = end + 1
            } else {
                let two = index + 1 < characters.count ? String(characters[index...index + 1]) : ""
                if ["==", "!=", "<=", ">="].contains(two) {
                    tokens.append(.symbol(two))
                    index += 2
                } else if "<>+-*().,".contains(character) {
                    tokens.append(.symbol(String(character)))
                    index += 1
                } else {
                    throw ExpressionError(message: "unexpected character '\(character)'")
                }
            }
        }
        tokens.append(.end)
        return tokens
    }
}
