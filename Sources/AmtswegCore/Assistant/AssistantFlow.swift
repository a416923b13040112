import Foundation
import Synchronization

/// Navigation through an assistant: which pages and fields are shown, in which order, and what is still missing.
public struct AssistantFlow: Sendable {
    /// The assistant being navigated.
    public let definition: AssistantDefinition
    /// Today as `YYYY-MM-DD`, for `today()` in conditions.
    public let today: String

    /// Creates the flow of `definition` on `today` (default: the current German civil date).
    public init(definition: AssistantDefinition, today: String = AssistantFlow.civilToday()) {
        self.definition = definition
        self.today = today
    }

    /// The last computed civil date and the minute it was computed for.
    private static let todayCache = Mutex<(minute: Int64, text: String)>((-1, ""))

    /// The current date in Europe/Berlin as `YYYY-MM-DD` (computed at most once a minute: calendars are slow).
    public static func civilToday(_ now: Date = Date()) -> String {
        let minute = Int64((now.timeIntervalSince1970 / 60).rounded(.down))
        if let cached = todayCache.withLock({ $0.minute == minute ? $0.text : nil }) { return cached }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Berlin") ?? .gmt
        let parts = calendar.dateComponents([.year, .month, .day], from: now)
        let text = isoDate(year: parts.year ?? 0, month: parts.month ?? 0, day: parts.day ?? 0)
        todayCache.withLock { $0 = (minute, text) }
        return text
    }

    /// `YYYY-MM-DD` without going through String(format:).
    static func isoDate(year: Int, month: Int, day: Int) -> String {
        let pad = { (value: Int, width: Int) -> String in
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    /// Whether `page`'s conditions hold for `answers`.
    func shows(_ page: PageDefinition, answers: Answers) -> Bool {
        if let condition = page.showIf, !condition.holds(in: answers) { return false }
        guard let showWhen = page.showWhen, let expression = ExpressionParser.cached(showWhen) else { return true }
        let checker = ExpressionChecker(definition: definition, page: page)
        return checker.evaluate(expression, in: ExpressionScope(answers: answers, today: today)) == .boolean(true)
    }

    /// Whether `field` on `page` is asked, given this page's answers so far (`values`) and the other pages'.
    public func shows(_ field: FieldDefinition, on page: PageDefinition, values: [String: String], answers: Answers) -> Bool {
        guard let showWhen = field.showWhen, let expression = ExpressionParser.cached(showWhen) else { return true }
        let checker = ExpressionChecker(definition: definition, page: page)
        return checker.evaluate(expression, in: ExpressionScope(values: values, answers: answers, today: today)) == .boolean(true)
    }

    /// The pages shown for `answers`, in order: pages whose conditions hold.
    public func visiblePages(for answers: Answers) -> [PageDefinition] {
        definition.pages.filter { shows($0, answers: answers) }
    }

    /// Whether `pageId` is shown for `answers`.
    public func isVisible(_ pageId: String, answers: Answers) -> Bool {
        visiblePages(for: answers).contains { $0.id == pageId }
    }

    /// The page after `pageId`, or nil when the check-answers page comes next.
    public func page(after pageId: String, answers: Answers) -> PageDefinition? {
        let pages = visiblePages(for: answers)
        guard let index = pages.firstIndex(where: { $0.id == pageId }) else { return pages.first }
        return index + 1 < pages.count ? pages[index + 1] : nil
    }

    /// The page before `pageId`, or nil on the first page.
    public func page(before pageId: String, answers: Answers) -> PageDefinition? {
        let pages = visiblePages(for: answers)
        guard let index = pages.firstIndex(where: { $0.id == pageId }), index > 0 else { return nil }
        return pages[index - 1]
    }

    /// The first shown page without saved answers; nil when the application is complete.
    public func firstUnansweredPage(_ answers: Answers) -> PageDefinition? {
        visiblePages(for: answers).first { !answers.hasAnswered(page: $0.id) }
    }

    /// Whether every shown page has been answered, so the application may be submitted.
    public func isComplete(_ answers: Answers) -> Bool { firstUnansweredPage(answers) == nil }

    /// `answers` without hidden pages and without answers to fields whose condition no longer holds.
    public func pruned(_ answers: Answers) -> Answers {
        var result = answers
        result.keepOnly(pages: Set(visiblePages(for: answers).map(\.id)))
        for page in definition.pages where page.repeat == nil && page.fields.contains(where: { $0.showWhen != nil }) {
            guard var values = result.pages[page.id] else { continue }
            for field in page.fields where !shows(field, on: page, values: values, answers: result) {
                values[field.id] = nil
            }
            result.set(page: page.id, values: values)
        }
        return result
    }

    /// The computed values for `answers` under the authority's prices.
    public func computedValues(for answers: Answers, schedule: FeeSchedule) -> [String: Int] {
        ComputedValues.evaluate(definition, answers: answers, tariff: schedule, today: today)
    }

    /// The fee in cents for `answers` under `schedule`.
    public func fee(for answers: Answers, schedule: FeeSchedule) -> Int {
        guard let rule = definition.fee else { return schedule.amount(copies: 1) }
        if let id = rule.computed {
            return max(0, computedValues(for: answers, schedule: schedule)[id] ?? 0)
        }
        guard let page = rule.copiesPage, let field = rule.copiesField,
              let copies = answers.value(page: page, field: field).flatMap(Int.init) else {
            return schedule.amount(copies: 1)
        }
        return schedule.amount(copies: copies)
    }
}
