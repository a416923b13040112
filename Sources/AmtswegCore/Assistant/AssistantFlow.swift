/// Navigation through an assistant: which pages are shown, in which order, and what is still missing.
public struct AssistantFlow: Sendable {
    /// The assistant being navigated.
    public let definition: AssistantDefinition

    /// Creates the flow of `definition`.
    public init(definition: AssistantDefinition) { self.definition = definition }

    /// The pages shown for `answers`, in order: pages whose condition holds.
    public func visiblePages(for answers: Answers) -> [PageDefinition] {
        definition.pages.filter { $0.showIf?.holds(in: answers) ?? true }
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

    /// The number of copies and the fee in cents for `answers` under `schedule`.
    public func fee(for answers: Answers, schedule: FeeSchedule) -> Int {
        guard let rule = definition.fee,
              let copies = answers.value(page: rule.copiesPage, field: rule.copiesField).flatMap(Int.init) else {
            return schedule.amount(copies: 1)
        }
        return schedule.amount(copies: copies)
    }
}
