/// A small indenting XML writer: elements in the order they are written, text and attribute values escaped.
struct XMLWriter {
    private(set) var text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    private var depth = 0

    /// Opens `name` with `attributes` (in this order).
    mutating func open(_ name: String, _ attributes: [(String, String)] = []) {
        text += indent + "<\(name)\(Self.attributes(attributes))>\n"
        depth += 1
    }

    /// Closes `name`.
    mutating func close(_ name: String) {
        depth -= 1
        text += indent + "</\(name)>\n"
    }

    /// `<name attributes>value</name>`.
    mutating func leaf(_ name: String, _ value: String, _ attributes: [(String, String)] = []) {
        text += indent + "<\(name)\(Self.attributes(attributes))>\(Self.escape(value))</\(name)>\n"
    }

    /// A leaf only when there is a non-empty value.
    mutating func optional(_ name: String, _ value: String?) {
        if let value, !value.isEmpty { leaf(name, value) }
    }

    /// `<name attributes><code>value</code></name>` (XÖV code element; `code` is unqualified).
    mutating func code(_ name: String, _ value: String, _ attributes: [(String, String)] = []) {
        open(name, attributes)
        leaf("code", value)
        close(name)
    }

    /// Opens `name`, writes `body`, closes it.
    mutating func element(_ name: String, _ attributes: [(String, String)] = [], _ body: (inout XMLWriter) -> Void) {
        open(name, attributes)
        body(&self)
        close(name)
    }

    private var indent: String { String(repeating: "   ", count: depth) }

    private static func attributes(_ list: [(String, String)]) -> String {
        list.map { " \($0.0)=\"\(escape($0.1))\"" }.joined()
    }

    /// Text with &, <, >, " and ' escaped, and characters XML 1.0 forbids dropped.
    static func escape(_ value: String) -> String {
        var result = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            case "\t", "\n", "\r": result.unicodeScalars.append(scalar)
            default:
                if scalar.value >= 0x20 && !(0xFFFE...0xFFFF).contains(scalar.value) { result.unicodeScalars.append(scalar) }
            }
        }
        return result
    }
}
