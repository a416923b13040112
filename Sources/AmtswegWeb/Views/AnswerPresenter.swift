import AmtswegCore
import AmtswegStorage
import Foundation

/// Turns stored answers into human-readable lines, for the check page, the back office and the receipt.
struct AnswerPresenter {
    /// One answered question.
    struct Line {
        let pageId: String
        let label: String
        let value: String
    }

    let definition: AssistantDefinition
    let translator: Translator

    /// Lines for every shown page that has answers, in definition order; uploads shown by file name.
    func lines(_ answers: Answers, attachments: [AttachmentInfo]) -> [Line] {
        let flow = AssistantFlow(definition: definition)
        var result: [Line] = []
        for page in flow.visiblePages(for: answers) {
            if let rule = page.repeat {
                result += entryLines(page, rule: rule, answers: answers, attachments: attachments)
                continue
            }
            for field in page.fields where field.kind != .label && field.display != "hidden" {
                let raw = answers.value(page: page.id, field: field.id)
                let label = page.fields.count == 1 ? field.label.text(translator.locale) : "\(page.title.text(translator.locale)): \(field.label.text(translator.locale))"
                guard let raw else {
                    if answers.hasAnswered(page: page.id) { result.append(Line(pageId: page.id, label: label, value: translator("check.notGiven"))) }
                    continue
                }
                result.append(Line(pageId: page.id, label: label, value: display(raw, field: field, attachments: attachments)))
            }
        }
        return result
    }

    /// Lines of an "add another" page: "Wunschtermin 2: Datum".
    private func entryLines(_ page: PageDefinition, rule: RepeatRule, answers: Answers, attachments: [AttachmentInfo]) -> [Line] {
        guard let values = answers.pages[page.id] else { return [] }
        let count = RepeatedEntries.count(values: values, rule: rule)
        guard count > 0 else { return [Line(pageId: page.id, label: page.title.text(translator.locale), value: translator("check.notGiven"))] }
        var result: [Line] = []
        for entry in 1...count {
            let entryValues = RepeatedEntries.entry(entry, of: values, page: page)
            for field in page.fields where field.kind != .label && field.display != "hidden" {
                guard let raw = entryValues[field.id] else { continue }
                result.append(Line(pageId: page.id, label: "\(rule.itemLabel.text(translator.locale)) \(entry): \(field.label.text(translator.locale))",
                                   value: display(raw, field: field, attachments: attachments)))
            }
        }
        return result
    }

    /// The display text of one stored value.
    func display(_ raw: String, field: FieldDefinition, attachments: [AttachmentInfo]) -> String {
        switch field.kind {
        case .radio, .select:
            return field.options?.first { $0.value == raw }?.label.text(translator.locale) ?? raw
        case .boolean:
            return translator(raw == "true" ? "common.yes" : "common.no")
        case .date:
            return Self.date(fromISO: raw).map(translator.date) ?? raw
        case .file:
            return attachments.first { $0.id == raw }?.filename ?? translator("check.fileAttached")
        case .decimal:
            return translator.locale == .de ? raw.replacingOccurrences(of: ".", with: ",") : raw
        case .currency:
            return (translator.locale == .de ? raw.replacingOccurrences(of: ".", with: ",") : raw) + " €"
        case .datetime:
            return Self.dateTime(raw, translator: translator)
        default:
            return raw
        }
    }

    /// `YYYY-MM-DDTHH:MM` as the locale writes a date, then the time.
    static func dateTime(_ raw: String, translator: Translator) -> String {
        let parts = raw.split(separator: "T").map(String.init)
        guard parts.count == 2, let day = date(fromISO: parts[0]) else { return raw }
        return "\(translator.date(day)), \(parts[1])"
    }

    /// Noon of an ISO calendar date in German time, so formatting never shifts the day.
    static func date(fromISO text: String) -> Date? {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Berlin") ?? .gmt
        return calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: 12))
    }
}
