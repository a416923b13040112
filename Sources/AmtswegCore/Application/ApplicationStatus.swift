/// The life cycle of a submitted application (Vorgang).
public enum ApplicationStatus: String, Codable, Sendable, CaseIterable {
    case received
    case inProgress = "in_progress"
    case completed
    case rejected

    /// The states this one may move to.
    public var allowedNext: [ApplicationStatus] {
        switch self {
        case .received: return [.inProgress, .rejected]
        case .inProgress: return [.completed, .rejected]
        case .completed, .rejected: return []
        }
    }

    /// Whether no further change is possible.
    public var isFinal: Bool { allowedNext.isEmpty }

    /// Checks a requested change; a rejection needs a reason.
    public func transition(to target: ApplicationStatus, reason: String?) throws(TransitionError) -> StatusChange {
        guard allowedNext.contains(target) else { throw .notAllowed(from: self, to: target) }
        let trimmed = reason?.trimmingCharacters(in: .whitespacesAndNewlines)
        let cleaned = (trimmed?.isEmpty ?? true) ? nil : trimmed
        if target == .rejected && cleaned == nil { throw .reasonRequired }
        if let cleaned, cleaned.count > 2000 { throw .reasonTooLong }
        return StatusChange(from: self, to: target, reason: cleaned)
    }
}

/// An allowed change of status, ready to be stored with its audit event.
public struct StatusChange: Sendable, Equatable {
    /// Previous state.
    public let from: ApplicationStatus
    /// New state.
    public let to: ApplicationStatus
    /// Why, as told to the citizen (required for rejections).
    public let reason: String?
}

/// Why a status change was refused.
public enum TransitionError: Error, Equatable, Sendable {
    case notAllowed(from: ApplicationStatus, to: ApplicationStatus)
    case reasonRequired
    case reasonTooLong
    case concurrentChange
}
