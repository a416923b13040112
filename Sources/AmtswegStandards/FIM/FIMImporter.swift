import AmtswegCore
import Foundation

/// The result of importing an XDatenfelder message: a checked assistant definition and its report.
public struct FIMImport: Sendable {
    /// The assistant, ready to be written as JSON and reviewed.
    public let definition: AssistantDefinition
    /// What was mapped, degraded or left for a person.
    public let report: ImportReport
}

/// Imports XDatenfelder 3.0.0 messages as assistant definitions (`amtsweg import-fim`).
public struct FIMImporter: Sendable {
    /// Canonical URIs of the code lists the platform has installed.
    public let availableCodeLists: Set<String>

    /// Creates an importer that knows which code lists can be resolved.
    public init(availableCodeLists: Set<String>) {
        self.availableCodeLists = availableCodeLists
    }

    /// Imports `data`; `assistantId` and `leikaKey` name the service the assistant will run.
    public func importMessage(_ data: Data, source: String, assistantId: String, leikaKey: String, version: String = "1.0.0") throws -> FIMImport {
        var parser = XDFParser()
        let schema = try parser.parse(data)
        var layout = AssistantLayout(report: ImportReport(source: source, schema: "\(schema.id) \(schema.version) – \(schema.title)"),
                                     availableCodeLists: availableCodeLists)
        layout.layout(schema)
        guard !layout.pages.isEmpty else { throw FIMImportError.invalid("\(schema.id) enthält keine Felder") }
        let legal = schema.legalBasis.isEmpty ? "Siehe Stammdatenschema \(schema.id)" : schema.legalBasis.joined(separator: "; ")
        var report = layout.report
        report.warnings.append("Leistungsbeschreibung (Voraussetzungen, Bearbeitungsdauer) und englische Texte ergänzt die Redaktion")
        let definition = AssistantDefinition(
            id: assistantId, version: version, leikaKey: leikaKey, title: LocalizedText(["de": schema.title]),
            information: ServiceInformation(
                description: LocalizedText(["de": schema.hint ?? schema.title]),
                eligibility: LocalizedText(["de": "Die Voraussetzungen ergeben sich aus \(legal)."]),
                requirements: [LocalizedText(["de": "Angaben und Nachweise nach Stammdatenschema \(schema.id) \(schema.version)"])],
                processingTime: LocalizedText(["de": "Die Bearbeitungsdauer teilt die zuständige Behörde mit."]),
                legalBasis: LocalizedText(["de": legal])),
            pages: layout.pages)
        try definition.check(source: source)
        return FIMImport(definition: definition, report: report)
    }
}
