/// The parts of an XDatenfelder 3 message the importer uses, as a tree.
struct XDFSchema: Sendable {
    let id: String
    let version: String
    let title: String
    let hint: String?
    let legalBasis: [String]
    let children: [XDFChild]
}

/// One use of a group or field, with its cardinality (`anzahl`).
struct XDFChild: Sendable {
    let node: XDFNode
    let minimum: Int
    /// nil: unbounded (`*`).
    let maximum: Int?
}

/// A Datenfeldgruppe or a Datenfeld.
enum XDFNode: Sendable {
    case group(XDFGroup)
    case field(XDFField)

    var id: String {
        switch self {
        case .group(let group): return group.id
        case .field(let field): return field.id
        }
    }
}

/// A Datenfeldgruppe.
struct XDFGroup: Sendable {
    let id: String
    let version: String
    let label: String
    let hint: String?
    let rules: [XDFRule]
    let children: [XDFChild]
}

/// A Datenfeld.
struct XDFField: Sendable {
    let id: String
    let version: String
    let label: String
    let hint: String?
    let feldart: String
    let datentyp: String
    let minLength: Int?
    let maxLength: Int?
    let minValue: String?
    let maxValue: String?
    let pattern: String?
    let values: [(code: String, name: String)]
    /// Canonical URI and version of the referenced code list.
    let codeList: (uri: String, version: String?)?
    let content: String?
    let rules: [XDFRule]
}

/// A Regel: free text and/or script.
struct XDFRule: Sendable {
    let id: String
    let version: String
    let name: String
    let freeText: String?
    let script: String?
    let type: String?
}
