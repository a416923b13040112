import Foundation

/// The OZG-Umsetzungskatalog: Themenfelder, Lebenslagen, OZG-Leistungen and their LeiKa services.
public struct ServiceCatalogue: Sendable {
    /// A Lebens- or Unternehmenslage.
    public struct Lebenslage: Codable, Sendable, Equatable {
        public let id: Int
        public let themenfeld: String
        public let name: String
    }

    /// An OZG-Leistung (bundle of LeiKa services).
    public struct OZGLeistung: Codable, Sendable, Equatable {
        public let ozgId: Int
        public let name: String
        public let lebenslageId: Int?
    }

    /// A LeiKa service.
    public struct Leistung: Codable, Sendable, Equatable {
        public let leikaKey: String
        public let name: String
        public let ozgId: Int?
        public let rechtsgrundlage: String?
    }

    private struct File: Codable {
        let themenfelder: [String]
        let lebenslagen: [Lebenslage]
        let ozgLeistungen: [OZGLeistung]
        let leika: [Leistung]
    }

    /// Themenfelder in catalogue order.
    public let themenfelder: [String]
    /// Lebenslagen sorted by name.
    public let lebenslagen: [Lebenslage]
    /// LeiKa services by key.
    public let leistungen: [String: Leistung]
    private let ozgLeistungen: [Int: OZGLeistung]
    private let searchIndex: [(folded: String, key: String)]

    /// Parses the catalogue JSON shipped in `shared/data/ozg-katalog`.
    public init(json: Data) throws {
        let file = try JSONDecoder().decode(File.self, from: json)
        themenfelder = file.themenfelder
        lebenslagen = file.lebenslagen.sorted { $0.name.localizedStandardCompare($1.name) == .orderedAscending }
        var byKey: [String: Leistung] = [:]
        for entry in file.leika { byKey[entry.leikaKey] = entry }
        leistungen = byKey
        ozgLeistungen = Dictionary(file.ozgLeistungen.map { ($0.ozgId, $0) }, uniquingKeysWith: { first, _ in first })
        searchIndex = byKey.values.map { (Self.fold($0.name), $0.leikaKey) }.sorted { $0.key < $1.key }
    }

    /// Lebenslagen of one Themenfeld.
    public func lebenslagen(in themenfeld: String) -> [Lebenslage] {
        lebenslagen.filter { $0.themenfeld == themenfeld }
    }

    /// The Lebenslage with `id`.
    public func lebenslage(id: Int) -> Lebenslage? { lebenslagen.first { $0.id == id } }

    /// The Lebenslage a LeiKa service belongs to, through its OZG-Leistung.
    public func lebenslage(ofLeistung key: String) -> Lebenslage? {
        guard let ozgId = leistungen[key]?.ozgId, let lageId = ozgLeistungen[ozgId]?.lebenslageId else { return nil }
        return lebenslage(id: lageId)
    }

    /// LeiKa services in a Lebenslage, sorted by name.
    public func leistungen(inLebenslage id: Int) -> [Leistung] {
        let ozgIds = Set(ozgLeistungen.values.filter { $0.lebenslageId == id }.map(\.ozgId))
        return leistungen.values.filter { $0.ozgId.map(ozgIds.contains) ?? false }
            .sorted { $0.name.localizedStandardCompare($1.name) == .orderedAscending }
    }

    /// Services whose name contains every word of `query` (case- and accent-insensitive), `preferred` first.
    public func search(_ query: String, preferred: Set<String> = [], limit: Int = 50) -> [Leistung] {
        let words = Self.fold(query).split(separator: " ").map(String.init).filter { !$0.isEmpty }
        guard !words.isEmpty else { return [] }
        let hits = searchIndex.filter { entry in words.allSatisfy { entry.folded.contains($0) } }.compactMap { leistungen[$0.key] }
        return hits.sorted { lhs, rhs in
            let lp = preferred.contains(lhs.leikaKey), rp = preferred.contains(rhs.leikaKey)
            if lp != rp { return lp }
            if lhs.name.count != rhs.name.count { return lhs.name.count < rhs.name.count }
            return lhs.leikaKey < rhs.leikaKey
        }.prefix(limit).map { $0 }
    }

    /// Lower-cased, diacritics and ß folded, punctuation as spaces.
    static func fold(_ text: String) -> String {
        let folded = text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: Locale(identifier: "de_DE"))
            .replacingOccurrences(of: "ß", with: "ss")
        return String(folded.map { $0.isLetter || $0.isNumber ? $0 : " " })
    }
}
