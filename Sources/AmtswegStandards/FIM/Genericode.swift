import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// One genericode code list: its canonical URI, version and the (code, label) rows.
public struct CodeList: Sendable, Equatable {
    /// `Identification/CanonicalUri`.
    public let canonicalUri: String
    /// `Identification/Version`.
    public let version: String
    /// Rows in file order.
    public let entries: [Entry]

    /// One row.
    public struct Entry: Sendable, Equatable {
        public let code: String
        public let label: String
    }

    /// Parses an OASIS genericode 1.0 document; the code column is the first key, the label column the
    /// `labelColumn` if given, else the first required column that is not the code column.
    public static func parse(_ data: Data, labelColumn: String? = nil) throws -> CodeList {
        let document: XMLDocument
        guard WellFormedness.check(data) else { throw CodeListError.notXML }
        do { document = try XMLParsing.exclusively { try XMLDocument(data: data, options: []) } } catch { throw CodeListError.notXML }
        guard let root = document.rootElement(), root.localName == "CodeList" else { throw CodeListError.notGenericode }
        guard let identification = root.childElement("Identification", namespace: nil),
              let uri = identification.childText("CanonicalUri", namespace: nil),
              let version = identification.childText("Version", namespace: nil)
        else { throw CodeListError.notGenericode }
        let columnSet = root.childElement("ColumnSet", namespace: nil)
        let columns = columnSet?.childElements("Column", namespace: nil) ?? []
        let columnIds = columns.compactMap { $0.attribute(forName: "Id")?.stringValue }
        let keyColumn = columnSet?.childElement("Key", namespace: nil)?.childElement("ColumnRef", namespace: nil)?
            .attribute(forName: "Ref")?.stringValue ?? columnIds.first
        guard let codeColumn = keyColumn else { throw CodeListError.notGenericode }
        let required = columns.filter { $0.attribute(forName: "Use")?.stringValue == "required" }
            .compactMap { $0.attribute(forName: "Id")?.stringValue }
        let nameColumn = labelColumn ?? required.first { $0 != codeColumn } ?? columnIds.first { $0 != codeColumn } ?? codeColumn
        var entries: [Entry] = []
        for row in root.childElement("SimpleCodeList", namespace: nil)?.childElements("Row", namespace: nil) ?? [] {
            var values: [String: String] = [:]
            for (index, value) in row.childElements("Value", namespace: nil).enumerated() {
                let column = value.attribute(forName: "ColumnRef")?.stringValue ?? (index < columnIds.count ? columnIds[index] : "")
                if let text = value.childText("SimpleValue", namespace: nil) { values[column] = text }
            }
            guard let code = values[codeColumn] else { continue }
            entries.append(Entry(code: code, label: values[nameColumn] ?? code))
        }
        guard !entries.isEmpty else { throw CodeListError.empty(uri) }
        return CodeList(canonicalUri: uri, version: version, entries: entries)
    }
}

/// Why a code list file cannot be used.
public enum CodeListError: Error, Equatable, CustomStringConvertible {
    case notXML
    case notGenericode
    case empty(String)

    public var description: String {
        switch self {
        case .notXML: return "code list is not well-formed XML"
        case .notGenericode: return "code list is not a genericode 1.0 CodeList with Identification and ColumnSet"
        case .empty(let uri): return "code list \(uri) has no rows"
        }
    }
}
