import AmtswegCore
import AmtswegStorage
import Foundation

/// A Postfach thread as template data, for the citizen's and the case worker's view.
struct ThreadPresenter {
    let translator: Translator
    /// Whose view: the citizen's ("Sie") or the case worker's.
    let forCitizen: Bool
    /// Download link of a message file.
    let fileHref: (MessageRecord, AttachmentInfo) -> String

    /// One entry per message, oldest first.
    func items(_ thread: [MessageRecord]) -> [[String: Any]] {
        let t = translator
        return thread.map { message in
            var item: [String: Any] = [
                "id": message.id, "subject": message.subject, "date": t.dateTime(message.createdAt),
                "kind": t("messages.kind.\(message.kind.rawValue)"),
                "author": message.kind == .reply ? t(forCitizen ? "messages.fromYou" : "messages.fromCitizen") : t("messages.fromAuthority"),
                "paragraphs": message.body.components(separatedBy: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty },
                "files": message.attachments.map { file in
                    ["name": file.filename, "href": fileHref(message, file), "size": Self.size(file.size, t)]
                },
                "hasFiles": !message.attachments.isEmpty, "isRequest": message.kind == .request, "isReply": message.kind == .reply,
                "open": message.kind == .request && message.answeredAt == nil,
            ]
            if let due = message.dueDate, let date = Self.day(due) { item["due"] = t.date(date) }
            if let answered = message.answeredAt { item["answered"] = t.dateTime(answered) }
            return item
        }
    }

    /// "1,2 MB", "340 KB".
    static func size(_ bytes: Int, _ t: Translator) -> String {
        bytes >= 1024 * 1024
            ? String(format: "%.1f MB", Double(bytes) / 1_048_576).replacingOccurrences(of: ".", with: t.locale == .de ? "," : ".")
            : "\(max(1, bytes / 1024)) KB"
    }

    /// Noon (German time) of an ISO day `yyyy-MM-dd`, for formatting; nil when malformed.
    static func day(_ text: String) -> Date? {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, text.count == 10 else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Berlin") ?? .gmt
        let components = DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: 12)
        guard let date = calendar.date(from: components), calendar.component(.day, from: date) == parts[2] else { return nil }
        return date
    }
}
