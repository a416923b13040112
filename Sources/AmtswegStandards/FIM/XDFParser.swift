import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Reads XDatenfelder 3.0.0 messages (Stammdatenschema 0102 or Datenfeldgruppe 0103) into an `XDFSchema`.
struct XDFParser {
    static let namespace = "urn:xoev-de:fim:standard:xdatenfelder_3.0.0"
    /// Deepest nesting accepted; real schemas have 6 levels.
    static let maximumDepth = 32

    private var cache: [String: XDFNode] = [:]

    /// Parses `data`; throws a message naming what is wrong.
    mutating func parse(_ data: Data) throws -> XDFSchema {
        // XMLDocument repairs broken markup silently; the strict SAX parser refuses it first.
        guard WellFormedness.check(data) else { throw FIMImportError.notXML }
        let document: XMLDocument
        do {
            document = try XMLParsing.exclusively { try XMLDocument(data: data, options: []) }
        } catch {
            throw FIMImportError.notXML
        }
        guard let root = document.rootElement() else { throw FIMImportError.notXML }
        let uri = root.uri ?? ""
        let name = root.localName ?? root.name ?? ""
        guard uri == Self.namespace else {
            if uri.hasPrefix("urn:xoev-de:fim:standard:xdatenfelder_") { throw FIMImportError.unsupportedVersion(uri) }
            throw FIMImportError.notXDatenfelder(name)
        }
        let ns = Self.namespace
        switch name {
        case "xdatenfelder.stammdatenschema.0102":
            guard let schema = root.childElement("stammdatenschema", namespace: ns) else { throw FIMImportError.invalid("stammdatenschema fehlt") }
            let (id, version) = try identification(schema, what: "stammdatenschema")
            let title = schema.childText("bezeichnung", namespace: ns) ?? schema.childText("bezeichnungEingabe", namespace: ns)
                ?? schema.childText("name", namespace: ns) ?? id
            let legal = schema.childElements("bezug", namespace: ns).compactMap(\.trimmedText)
            return XDFSchema(
                id: id, version: version, title: title, hint: schema.childText("hilfetext", namespace: ns), legalBasis: legal,
                children: try structure(schema, depth: 1, path: [id]))
        case "xdatenfelder.datenfeldgruppe.0103":
            guard let element = root.childElement("datenfeldgruppe", namespace: ns) else { throw FIMImportError.invalid("datenfeldgruppe fehlt") }
            guard case .group(let group) = try node(element, isGroup: true, depth: 1, path: []) else { throw FIMImportError.invalid("datenfeldgruppe") }
            let legal = element.childElements("bezug", namespace: ns).compactMap(\.trimmedText)
            // A lone group becomes a schema whose only top-level child is that group.
            return XDFSchema(id: group.id, version: group.version, title: group.label, hint: group.hint, legalBasis: legal,
                             children: [XDFChild(node: .group(group), minimum: 1, maximum: 1)])
        default:
            throw FIMImportError.notXDatenfelder(name)
        }
    }

    private func identification(_ element: XMLElement, what: String) throws -> (String, String) {
        let ns = Self.namespace
        guard let identification = element.childElement("identifikation", namespace: ns),
              let id = identification.childText("id", namespace: ns) else {
            throw FIMImportError.invalid("\(what) ohne identifikation/id")
        }
        return (id, identification.childText("version", namespace: ns) ?? "")
    }

    private mutating func structure(_ element: XMLElement, depth: Int, path: [String]) throws -> [XDFChild] {
        let ns = Self.namespace
        var children: [XDFChild] = []
        for struktur in element.childElements("struktur", namespace: ns) {
            let (minimum, maximum) = try Self.cardinality(struktur.childText("anzahl", namespace: ns) ?? "1:1")
            guard let enthaelt = struktur.childElement("enthaelt", namespace: ns) else { throw FIMImportError.invalid("struktur ohne enthaelt") }
            if let group = enthaelt.childElement("datenfeldgruppe", namespace: ns) {
                children.append(XDFChild(node: try node(group, isGroup: true, depth: depth, path: path), minimum: minimum, maximum: maximum))
            } else if let field = enthaelt.childElement("datenfeld", namespace: ns) {
                children.append(XDFChild(node: try node(field, isGroup: false, depth: depth, path: path), minimum: minimum, maximum: maximum))
            } else {
                throw FIMImportError.invalid("struktur/enthaelt ohne datenfeld oder datenfeldgruppe")
            }
        }
        return children
    }

    private mutating func node(_ element: XMLElement, isGroup: Bool, depth: Int, path: [String]) throws -> XDFNode {
        let ns = Self.namespace
        let (id, version) = try identification(element, what: isGroup ? "datenfeldgruppe" : "datenfeld")
        guard depth <= Self.maximumDepth else { throw FIMImportError.invalid("Verschachtelung tiefer als \(Self.maximumDepth) bei \(id)") }
        guard !path.contains(id) else { throw FIMImportError.invalid("\(id) enthält sich selbst") }
        let key = "\(id):\(version)"
        if let cached = cache[key] { return cached }
        let label = element.childText("bezeichnungEingabe", namespace: ns) ?? element.childText("name", namespace: ns) ?? id
        let hint = element.childText("hilfetextEingabe", namespace: ns)
        let rules = element.childElements("regel", namespace: ns).map { rule in
            let identification = rule.childElement("identifikation", namespace: ns)
            return XDFRule(
                id: identification?.childText("id", namespace: ns) ?? "?", version: identification?.childText("version", namespace: ns) ?? "",
                name: rule.childText("name", namespace: ns) ?? "", freeText: rule.childText("freitextRegel", namespace: ns),
                script: rule.childText("skript", namespace: ns), type: rule.codeValue("typ", namespace: ns))
        }
        let result: XDFNode
        if isGroup {
            result = .group(XDFGroup(id: id, version: version, label: label, hint: hint, rules: rules,
                                     children: try structure(element, depth: depth + 1, path: path + [id])))
        } else {
            guard let feldart = element.codeValue("feldart", namespace: ns) else { throw FIMImportError.invalid("\(id): feldart fehlt") }
            guard let datentyp = element.codeValue("datentyp", namespace: ns) else { throw FIMImportError.invalid("\(id): datentyp fehlt") }
            let precision = element.childElement("praezisierung", namespace: ns)
            func attribute(_ name: String) -> String? {
                precision?.attribute(forName: name)?.stringValue?.trimmingCharacters(in: .whitespaces).nilIfEmpty
            }
            let values = element.childElement("werte", namespace: ns)?.childElements("wert", namespace: ns).compactMap { wert -> (String, String)? in
                guard let code = wert.childText("code", namespace: ns) else { return nil }
                return (code, wert.childText("name", namespace: ns) ?? code)
            } ?? []
            var codeList: (String, String?)?
            if let reference = element.childElement("codelisteReferenz", namespace: ns),
               let uri = reference.childText("canonicalIdentification", namespace: ns) {
                codeList = (uri, reference.childText("version", namespace: ns))
            }
            result = .field(XDFField(
                id: id, version: version, label: label, hint: hint, feldart: feldart, datentyp: datentyp,
                minLength: attribute("minLength").flatMap(Int.init), maxLength: attribute("maxLength").flatMap(Int.init),
                minValue: attribute("minValue"), maxValue: attribute("maxValue"), pattern: attribute("pattern"),
                values: values, codeList: codeList, content: element.childText("inhalt", namespace: ns), rules: rules))
        }
        cache[key] = result
        return result
    }

    /// Parses `min:max` with max a number or `*`.
    static func cardinality(_ text: String) throws -> (Int, Int?) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let minimum = Int(parts[0]), minimum >= 0 else { throw FIMImportError.invalid("anzahl \(text) ist nicht min:max") }
        if parts[1] == "*" || parts[1] == "n" { return (minimum, nil) }
        guard let maximum = Int(parts[1]), maximum >= max(minimum, 1) else { throw FIMImportError.invalid("anzahl \(text) ist nicht min:max") }
        return (minimum, maximum)
    }
}

extension String {
    /// nil for the empty string.
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
