import AmtswegCore
import AmtswegStorage
import Foundation
import Logging

/// Checks a file sent with a Postfach message (from the authority or the citizen) like an upload in an assistant:
/// PDF, PNG or JPEG by content, at most 5 MB, not empty, and scanned by clamd when configured (fail closed).
enum MessageUpload {
    static let maxBytes = 5 * 1024 * 1024

    /// The checked file, nil when none was chosen, or the localized reason it is refused.
    static func check(_ upload: UploadedFile?, label: String, scanner: ClamdScanner?, translator t: Translator,
                      logger: Logger) async -> Result<MessageFile?, MessageUploadError> {
        guard let upload, !(upload.data.isEmpty && upload.filename.isEmpty) else { return .success(nil) }
        let parameters = ["label": label, "max": "\(maxBytes / (1024 * 1024)) MB"]
        if upload.data.isEmpty { return .failure(MessageUploadError(message: t("error.fileEmpty", parameters))) }
        if upload.data.count > maxBytes { return .failure(MessageUploadError(message: t("error.fileTooLarge", parameters))) }
        guard let type = MediaTypeSniffer.mediaType(of: upload.data) else {
            return .failure(MessageUploadError(message: t("error.fileType", parameters)))
        }
        switch await scanner?.refusal(for: upload.data, logger: logger, about: ["kind": "message or document"]) {
        case .infected: return .failure(MessageUploadError(message: t("error.fileInfected", parameters)))
        case .unscannable: return .failure(MessageUploadError(message: t("error.fileScanFailed", parameters)))
        case nil: break
        }
        return .success(MessageFile(file: upload, contentType: type))
    }
}

/// Why a message file is refused, as shown to the user.
struct MessageUploadError: Error {
    let message: String
}
