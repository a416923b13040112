/// What an import did: every rule mapped or not, every degradation, so nothing is dropped silently.
public struct ImportReport: Codable, Sendable, Equatable {
    /// A rule and what became of it.
    public struct RuleNote: Codable, Sendable, Equatable {
        /// Rule id.
        public let id: String
        /// Rule name.
        public let name: String
        /// The group or field that carries it.
        public let owner: String
        /// The free text (or script) of the rule.
        public let text: String
        /// How it was mapped, or why not.
        public let outcome: String
    }

    /// The imported message.
    public var source: String
    /// Stammdatenschema or group id and version.
    public var schema: String
    /// Number of pages written.
    public var pages = 0
    /// Number of fields written.
    public var fields = 0
    /// Rules turned into page conditions.
    public var mappedRules: [RuleNote] = []
    /// Rules that need a service designer.
    public var unmappedRules: [RuleNote] = []
    /// Everything else that was changed or left out, with the element id.
    public var warnings: [String] = []

    /// The report as readable text.
    public var text: String {
        var lines = ["Import von \(source): \(schema)", "\(pages) Seiten, \(fields) Felder"]
        if !mappedRules.isEmpty {
            lines.append("Regeln als Bedingungen übernommen:")
            lines += mappedRules.map { "  \($0.id) (\($0.owner)): \($0.outcome)" }
        }
        if !unmappedRules.isEmpty {
            lines.append("Regeln NICHT übernommen (von Hand abbilden):")
            lines += unmappedRules.map { "  \($0.id) \($0.name) (\($0.owner)): \($0.outcome) – \($0.text)" }
        }
        if !warnings.isEmpty {
            lines.append("Hinweise:")
            lines += warnings.map { "  \($0)" }
        }
        return lines.joined(separator: "\n")
    }
}

/// Why a message cannot be imported.
public enum FIMImportError: Error, Equatable, CustomStringConvertible {
    case notXML
    case unsupportedVersion(String)
    case notXDatenfelder(String)
    case invalid(String)

    public var description: String {
        switch self {
        case .notXML:
            return "Die Datei ist kein wohlgeformtes XML."
        case .unsupportedVersion(let namespace):
            return "XDatenfelder-Version \(namespace) wird nicht unterstützt. Bitte die XDatenfelder-3.0.0-Fassung aus dem FIM-Portal laden."
        case .notXDatenfelder(let root):
            return "Keine XDatenfelder-3-Nachricht (Wurzelelement \(root)); erwartet: xdatenfelder.stammdatenschema.0102 oder xdatenfelder.datenfeldgruppe.0103."
        case .invalid(let message):
            return "Ungültige XDatenfelder-Nachricht: \(message)"
        }
    }
}
