import Foundation
@testable import AmtswegCore

/// Shipped files the core tests read.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The shipped birth-certificate assistant.
    static func birthCertificate() throws -> AssistantDefinition {
        let url = root.appendingPathComponent("Sources/AmtswegWeb/Resources/assistants/geburtsurkunde.json")
        return try AssistantDefinition.load(json: Data(contentsOf: url), source: "geburtsurkunde.json")
    }

    /// The shipped OZG catalogue.
    static func catalogue() throws -> ServiceCatalogue {
        try ServiceCatalogue(json: Data(contentsOf: root.appendingPathComponent("Sources/AmtswegWeb/Resources/data/ozg-katalog-2019.json")))
    }
}
