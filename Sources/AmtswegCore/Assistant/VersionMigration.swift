/// Carries a draft's answers from the assistant version it was started with to a newer one, by field id.
///
/// An answer survives when its page and field still exist, the field kind is unchanged and, for choices, the
/// value is still one of the options. Pages that lost an answer or gained a required field are reported so the
/// citizen is sent there and told what changed.
public enum VersionMigration {
    /// The outcome of carrying answers over.
    public struct Result: Sendable, Equatable {
        /// Answers valid for the new version.
        public let answers: Answers
        /// Pages (of the new version) the citizen must look at again, in page order.
        public let pagesToReview: [String]
    }

    /// Carries `answers` from `old` to `new`.
    public static func migrate(_ answers: Answers, from old: AssistantDefinition, to new: AssistantDefinition) -> Result {
        var migrated = Answers()
        var review: [String] = []
        for page in new.pages {
            guard let oldPage = old.page(page.id), let oldValues = answers.pages[page.id] else { continue }
            if page.repeat != nil || oldPage.repeat != nil {
                // Entries move over whole, or the page is asked again: half an entry list would mislead.
                let same = page.repeat == oldPage.repeat && page.fields.map(\.id) == oldPage.fields.map(\.id)
                    && zip(page.fields, oldPage.fields).allSatisfy { $0.kind == $1.kind && $0.required == $1.required && $0.options == $1.options }
                if same { migrated.set(page: page.id, values: oldValues) } else { review.append(page.id) }
                continue
            }
            var values: [String: String] = [:]
            var changed = false
            for field in page.fields where field.kind != .label {
                let oldField = oldPage.field(field.id)
                guard let value = oldValues[field.id] else {
                    // A field the old page did not have, or did not require, must now be answered.
                    if field.required && (field.optionalGroups ?? []).isEmpty && !(oldField?.required ?? false) { changed = true }
                    continue
                }
                guard let oldField, oldField.kind == field.kind else { changed = true; continue }
                if field.kind == .radio || field.kind == .select, !(field.options ?? []).contains(where: { $0.value == value }) {
                    changed = true
                    continue
                }
                values[field.id] = value
            }
            if oldValues.keys.contains(where: { page.field($0) == nil }) { changed = true }
            if changed {
                review.append(page.id)
            } else {
                migrated.set(page: page.id, values: values)
            }
        }
        migrated = AssistantFlow(definition: new).pruned(migrated)
        return Result(answers: migrated, pagesToReview: review)
    }
}
