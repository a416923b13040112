/// How sure the platform is about who a citizen is (Vertrauensniveau, as BundID reports it: eIDAS/TR-03107 levels).
public enum TrustLevel: String, Codable, Sendable, CaseIterable, Comparable {
    /// Registration with e-mail and password.
    case basis
    /// E.g. an ELSTER certificate.
    case substanziell
    /// The online ID card (eID).
    case hoch

    var rank: Int {
        switch self {
        case .basis: 1
        case .substanziell: 2
        case .hoch: 3
        }
    }

    public static func < (lhs: TrustLevel, rhs: TrustLevel) -> Bool { lhs.rank < rhs.rank }

    /// The level an `acr` value of BundID names (STORK-QAA-Level-1 … 4), or nil for unknown values.
    public init?(acr: String) {
        switch acr {
        case "STORK-QAA-Level-1", "STORK-QAA-Level-2": self = .basis
        case "STORK-QAA-Level-3": self = .substanziell
        case "STORK-QAA-Level-4": self = .hoch
        default:
            guard let level = TrustLevel(rawValue: acr) else { return nil }
            self = level
        }
    }

    /// The `acr` value to ask an identity provider for this level.
    public var acr: String {
        switch self {
        case .basis: "STORK-QAA-Level-1"
        case .substanziell: "STORK-QAA-Level-3"
        case .hoch: "STORK-QAA-Level-4"
        }
    }
}
