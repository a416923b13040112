import Foundation
import Logging

/// Why an upload is refused after asking clamd.
enum ScanRefusal {
    /// Malware found.
    case infected
    /// clamd could not be asked: nothing unscanned is stored (fail closed).
    case unscannable
}

extension ClamdScanner {
    /// Scans an upload and logs a refusal with `about` (a field or kind, never a file name); nil when it is clean.
    func refusal(for data: Data, logger: Logger, about: Logger.Metadata) async -> ScanRefusal? {
        do {
            guard case .infected(let signature) = try await scan(data) else { return nil }
            logger.warning("upload refused: malware found", metadata: about.merging(["signature": "\(signature)"]) { $1 })
            return .infected
        } catch {
            logger.error("upload refused: virus scan failed", metadata: about.merging(["reason": "\(error)"]) { $1 })
            return .unscannable
        }
    }
}
