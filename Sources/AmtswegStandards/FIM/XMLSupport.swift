import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Namespace-aware, direct-child lookups on XML elements, as XDatenfelder and genericode need them.
extension XMLElement {
    /// Direct child elements with `name`, in `namespace` (nil: in no namespace).
    func childElements(_ name: String, namespace: String?) -> [XMLElement] {
        (children ?? []).compactMap { $0 as? XMLElement }.filter { element in
            (element.localName ?? element.name) == name && Self.sameNamespace(element.uri, namespace)
        }
    }

    /// The first direct child with `name`.
    func childElement(_ name: String, namespace: String?) -> XMLElement? {
        childElements(name, namespace: namespace).first
    }

    /// Trimmed text of the first direct child with `name`; nil when missing or blank.
    func childText(_ name: String, namespace: String?) -> String? {
        childElement(name, namespace: namespace)?.trimmedText
    }

    /// The element's text, trimmed; nil when blank.
    var trimmedText: String? {
        let text = (stringValue ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    /// The `<code>` inside a code-typed child (the code element may be unqualified or in `namespace`).
    func codeValue(_ name: String, namespace: String) -> String? {
        guard let holder = childElement(name, namespace: namespace) else { return nil }
        let code = holder.childElement("code", namespace: nil) ?? holder.childElement("code", namespace: namespace)
        return code?.trimmedText
    }

    private static func sameNamespace(_ lhs: String?, _ rhs: String?) -> Bool {
        (lhs?.isEmpty ?? true) ? (rhs?.isEmpty ?? true) : lhs == rhs
    }
}

/// One XML parse at a time in this process: FoundationXML's XMLParser crashed (illegal instruction in its start-element
/// callback) when two threads parsed at once in the test run; parses are short, so the lock costs little.
enum XMLParsing {
    static let lock = NSLock()

    /// Runs `body` while no other XML parse runs.
    static func exclusively<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}

/// Strict well-formedness check: XMLDocument would silently repair broken markup.
enum WellFormedness {
    /// Whether `data` is well-formed XML with a root element. Empty input and input without any element are refused
    /// here: FoundationXML's XMLDocument dereferences a null root for them and crashes the process (found by
    /// FIMParserPropertyTests).
    static func check(_ data: Data) -> Bool {
        guard data.contains(UInt8(ascii: "<")) else { return false }
        return XMLParsing.exclusively {
            let parser = XMLParser(data: data)
            let catcher = ErrorCatcher()
            parser.delegate = catcher
            return parser.parse() && parser.parserError == nil && !catcher.failed && catcher.sawElement
        }
    }

    /// Records any error the parser reports, and whether there was an element at all.
    private final class ErrorCatcher: NSObject, XMLParserDelegate {
        var failed = false
        var sawElement = false
        func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) { failed = true }
        func parser(_ parser: XMLParser, validationErrorOccurred validationError: any Error) { failed = true }
        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String]) { sawElement = true }
    }
}
