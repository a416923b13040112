/// Naming of the entries of an "add another" page: form and answer keys `field[n]`, the count under `#entries`.
public enum RepeatedEntries {
    /// The answer key holding the number of entries.
    public static let countKey = "#entries"
    /// The form field carrying the number of entries shown.
    public static let inputCountKey = "_entries"
    /// Suffixes of the inputs one field may have (date parts, time).
    static let inputSuffixes = ["", "-day", "-month", "-year", "-time"]

    /// The key of `field` in entry `entry` (1-based).
    public static func key(_ field: String, entry: Int) -> String { "\(field)[\(entry)]" }

    /// The number of entries the form says it shows, within the page's bounds.
    public static func count(input: [String: String], rule: RepeatRule) -> Int {
        let asked = Int(input[inputCountKey] ?? "") ?? max(rule.min, 1)
        return min(max(asked, rule.min), rule.max)
    }

    /// The number of entries stored in a page's answers.
    public static func count(values: [String: String], rule: RepeatRule) -> Int {
        min(max(Int(values[countKey] ?? "") ?? max(rule.min, 1), rule.min), rule.max)
    }

    /// Form input with entry `removed` taken out and the entries after it moved up by one.
    public static func removing(entry removed: Int, from input: [String: String], page: PageDefinition) -> [String: String] {
        guard let rule = page.repeat else { return input }
        let count = count(input: input, rule: rule)
        var result = input.filter { key, _ in !page.fields.contains { field in key.hasPrefix("\(field.id)[") } }
        var target = 1
        for entry in 1...max(count, 1) where entry != removed && entry <= count {
            for field in page.fields {
                for suffix in inputSuffixes {
                    if let value = input[key(field.id, entry: entry) + suffix] { result[key(field.id, entry: target) + suffix] = value }
                }
            }
            target += 1
        }
        result[inputCountKey] = String(max(count - 1, rule.min))
        return result
    }

    /// The answers of one entry, keyed by plain field id.
    public static func entry(_ entry: Int, of values: [String: String], page: PageDefinition) -> [String: String] {
        var result: [String: String] = [:]
        for field in page.fields { result[field.id] = values[key(field.id, entry: entry)] }
        return result
    }
}

extension AppointmentRequest {
    /// The citizen's preferred appointments in entry order, as `YYYY-MM-DDTHH:MM` (entries without date or time left out).
    public func slots(in answers: Answers, definition: AssistantDefinition) -> [String] {
        guard let page = definition.page(self.page), let rule = page.repeat, let values = answers.pages[page.id] else { return [] }
        let count = RepeatedEntries.count(values: values, rule: rule)
        guard count > 0 else { return [] }
        return (1...count).compactMap { entry in
            guard let date = values[RepeatedEntries.key(self.date, entry: entry)], let time = values[RepeatedEntries.key(self.time, entry: entry)] else { return nil }
            return "\(date)T\(time)"
        }
    }
}
