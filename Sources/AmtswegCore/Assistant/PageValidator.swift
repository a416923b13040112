import Foundation
import Synchronization

/// The outcome of checking one page's submitted form.
public struct PageValidation: Sendable {
    /// Normalised answers of the page, for the fields that passed.
    public let values: [String: String]
    /// Uploads that passed, by field id, with their sniffed media type.
    public let files: [String: (UploadedFile, String)]
    /// Refused answers, in field order.
    public let errors: [FieldError]
    /// The raw input, to redisplay what the citizen typed.
    public let rawInput: [String: String]

    /// Whether the page can be saved.
    public var isValid: Bool { errors.isEmpty }

    /// Creates an outcome (the validator makes them; the upload scan adds errors to one).
    public init(values: [String: String], files: [String: (UploadedFile, String)], errors: [FieldError], rawInput: [String: String]) {
        self.values = values
        self.files = files
        self.errors = errors
        self.rawInput = rawInput
    }
}

/// Checks a page's form input against its definition on the server; dates are checked against `today`.
public struct PageValidator: Sendable {
    /// The current calendar date (Europe/Berlin), for "not in the future".
    public let today: DateComponents

    /// Today as `YYYY-MM-DD`, for `today()` in rules.
    let todayText: String

    /// Creates a validator for the given day.
    public init(today: DateComponents) {
        self.today = today
        todayText = AssistantFlow.isoDate(year: today.year ?? 0, month: today.month ?? 0, day: today.day ?? 0)
    }

    /// Creates a validator for the current day in German civil time.
    public init(now: Date = Date()) {
        todayText = AssistantFlow.civilToday(now)
        let parts = todayText.split(separator: "-").compactMap { Int($0) }
        today = DateComponents(year: parts[0], month: parts[1], day: parts[2])
    }

    /// Validates `input` (form name → value) and `uploads` for `page`; `existing` keeps earlier uploads.
    public func validate(
        page: PageDefinition, input: [String: String], uploads: [String: UploadedFile] = [:],
        existing: [String: String] = [:], definition: AssistantDefinition? = nil, answers: Answers = Answers()
    ) -> PageValidation {
        if let rule = page.repeat {
            return validateEntries(page: page, rule: rule, input: input, uploads: uploads, existing: existing, definition: definition, answers: answers)
        }
        return validateFields(page: page, input: input, uploads: uploads, existing: existing, definition: definition, answers: answers)
    }

    /// Validates an "add another" page entry by entry; keys are `field[n]`, the count is stored as `#entries`.
    private func validateEntries(
        page: PageDefinition, rule: RepeatRule, input: [String: String], uploads: [String: UploadedFile],
        existing: [String: String], definition: AssistantDefinition?, answers: Answers
    ) -> PageValidation {
        let count = RepeatedEntries.count(input: input, rule: rule)
        var values: [String: String] = [RepeatedEntries.countKey: String(count)]
        var files: [String: (UploadedFile, String)] = [:]
        var errors: [FieldError] = []
        for entry in (count > 0 ? Array(1...count) : []) {
            let key = { (field: String) in RepeatedEntries.key(field, entry: entry) }
            var entryInput: [String: String] = [:], entryUploads: [String: UploadedFile] = [:], entryExisting: [String: String] = [:]
            for field in page.fields {
                for suffix in RepeatedEntries.inputSuffixes {
                    if let value = input[key(field.id) + suffix] { entryInput[field.id + suffix] = value }
                }
                entryUploads[field.id] = uploads[key(field.id)]
                entryExisting[field.id] = existing[key(field.id)]
            }
            let result = validateFields(page: page, input: entryInput, uploads: entryUploads, existing: entryExisting,
                                        definition: definition, answers: answers)
            for (field, value) in result.values { values[key(field)] = value }
            for (field, file) in result.files { files[key(field)] = file }
            errors += result.errors.map { error in
                FieldError(field: key(error.field), anchor: key(error.field) + error.anchor.dropFirst(error.field.count),
                           problem: error.problem, parameters: error.parameters.merging(["entry": String(entry)]) { a, _ in a })
            }
        }
        return PageValidation(values: values, files: files, errors: errors, rawInput: input)
    }

    /// Validates the fields of one page (or one entry of a repeated page), then its cross-field rules.
    private func validateFields(
        page: PageDefinition, input: [String: String], uploads: [String: UploadedFile],
        existing: [String: String], definition: AssistantDefinition?, answers: Answers
    ) -> PageValidation {
        var values: [String: String] = [:]
        var files: [String: (UploadedFile, String)] = [:]
        var errors: [FieldError] = []
        let groupsInUse = Self.optionalGroupsInUse(page: page, input: input, uploads: uploads, existing: existing)
        let checker = definition.map { ExpressionChecker(definition: $0, page: page) }
        let today = todayText
        for field in page.fields where field.kind != .label {
            if let showWhen = field.showWhen, let checker, let expression = ExpressionParser.cached(showWhen),
               checker.evaluate(expression, in: ExpressionScope(values: values, answers: answers, today: today)) != .boolean(true) {
                // Not asked under the answers given: whatever the form carried for it is dropped, nothing is required.
                continue
            }
            if field.display != nil {
                // Hidden and locked answers are fixed by the definition; whatever the form sent is ignored.
                if let value = field.value { values[field.id] = value }
                continue
            }
            let required = field.required && (field.optionalGroups ?? []).allSatisfy(groupsInUse.contains)
            if field.kind == .file {
                switch checkFile(field, required: required, upload: uploads[field.id], existing: existing[field.id]) {
                case .success(let result):
                    if let (upload, type) = result { files[field.id] = (upload, type) } else if let kept = existing[field.id] { values[field.id] = kept }
                case .failure(let error): errors.append(error)
                }
                continue
            }
            switch check(field, required: required, input: input) {
            case .success(let value): if let value { values[field.id] = value }
            case .failure(let error): errors.append(error)
            }
        }
        if errors.isEmpty, let checker, let rules = page.rules {
            var known = values
            for field in files.keys { known[field] = "uploaded" }
            for rule in rules {
                guard let expression = ExpressionParser.cached(rule.check) else { continue }
                if checker.evaluate(expression, values: known, answers: answers, today: today) == .boolean(false) {
                    errors.append(FieldError(field: rule.field, problem: .ruleViolated, parameters: ["rule": rule.id]))
                }
            }
        }
        return PageValidation(values: values, files: files, errors: errors, rawInput: input)
    }

    /// Optional groups of the page in which at least one answer was given.
    static func optionalGroupsInUse(page: PageDefinition, input: [String: String], uploads: [String: UploadedFile], existing: [String: String]) -> Set<String> {
        var inUse = Set<String>()
        for field in page.fields {
            guard let groups = field.optionalGroups, !groups.isEmpty else { continue }
            let given: Bool
            switch field.kind {
            case .date, .datetime:
                given = ["day", "month", "year", "time"].contains { !(input["\(field.id)-\($0)"] ?? "").trimmingCharacters(in: .whitespaces).isEmpty }
            case .file: given = !(uploads[field.id]?.data.isEmpty ?? true) || existing[field.id] != nil
            case .label: given = false
            default: given = !(input[field.id] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            }
            if given { inUse.formUnion(groups) }
        }
        return inUse
    }

    private func check(_ field: FieldDefinition, required: Bool, input: [String: String]) -> Result<String?, FieldError> {
        if field.kind == .date { return checkDate(field, required: required, input: input) }
        if field.kind == .datetime { return checkDateTime(field, required: required, input: input) }
        let raw = (input[field.id] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if raw.isEmpty {
            return required ? .failure(FieldError(field: field.id, anchor: anchor(field), problem: .required)) : .success(nil)
        }
        if raw.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\n" && $0 != "\r" && $0 != "\t" }) {
            return .failure(FieldError(field: field.id, anchor: anchor(field), problem: .invalidCharacters))
        }
        switch field.kind {
        case .radio, .select:
            guard field.options?.contains(where: { $0.value == raw }) == true else {
                return .failure(FieldError(field: field.id, anchor: anchor(field), problem: .notAnOption))
            }
            return .success(raw)
        case .boolean:
            guard raw == "true" || raw == "false" else {
                return .failure(FieldError(field: field.id, anchor: anchor(field), problem: .notAnOption))
            }
            return .success(raw)
        case .integer:
            let minimum = field.minValue ?? Int.min, maximum = field.maxValue ?? Int.max
            let parameters = ["min": String(minimum), "max": String(maximum)]
            guard raw.count <= 9, raw.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(raw) else {
                return .failure(FieldError(field: field.id, problem: .notAnInteger, parameters: parameters))
            }
            guard number >= minimum, number <= maximum else {
                return .failure(FieldError(field: field.id, problem: .outOfRange, parameters: parameters))
            }
            return .success(String(number))
        case .email:
            guard raw.count <= 254, Self.isPlausibleEmail(raw) else {
                return .failure(FieldError(field: field.id, problem: .emailInvalid))
            }
            return .success(raw)
        case .postalCode:
            guard raw.count == 5, raw.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                return .failure(FieldError(field: field.id, problem: .postalCodeInvalid))
            }
            return .success(raw)
        case .text, .textarea:
            let normalised = field.kind == .text ? raw.split(whereSeparator: \.isWhitespace).joined(separator: " ") : raw
            if let minimum = field.minLength, normalised.count < minimum {
                return .failure(FieldError(field: field.id, problem: .tooShort, parameters: ["min": String(minimum)]))
            }
            if normalised.count > field.effectiveMaxLength {
                return .failure(FieldError(field: field.id, problem: .tooLong, parameters: ["max": String(field.effectiveMaxLength)]))
            }
            if field.characters == "din91379", let character = DIN91379.firstInvalidCharacter(in: normalised) {
                return .failure(FieldError(field: field.id, problem: .latinCharacters, parameters: ["character": String(character)]))
            }
            if let pattern = field.pattern, !Self.matches(normalised, pattern: pattern) {
                return .failure(FieldError(field: field.id, problem: .patternMismatch))
            }
            return .success(normalised)
        case .decimal, .currency:
            return checkDecimal(field, raw: raw)
        case .time:
            guard let time = Self.normalisedTime(raw) else { return .failure(FieldError(field: field.id, problem: .timeInvalid)) }
            return .success(time)
        case .date, .datetime, .file, .label:
            return .success(nil)
        }
    }

    private func anchor(_ field: FieldDefinition) -> String {
        switch field.kind {
        case .radio: return "\(field.id)-\(field.options?.first?.value ?? "")"
        case .boolean: return "\(field.id)-true"
        case .date, .datetime: return "\(field.id)-day"
        default: return field.id
        }
    }

    private func checkDate(_ field: FieldDefinition, required: Bool, input: [String: String]) -> Result<String?, FieldError> {
        let parts = ["day", "month", "year"].map { (input["\(field.id)-\($0)"] ?? "").trimmingCharacters(in: .whitespaces) }
        if parts.allSatisfy(\.isEmpty) {
            return required ? .failure(FieldError(field: field.id, anchor: "\(field.id)-day", problem: .required)) : .success(nil)
        }
        if let missing = zip(["day", "month", "year"], parts).first(where: { $0.1.isEmpty }) {
            return .failure(FieldError(field: field.id, anchor: "\(field.id)-\(missing.0)", problem: .dateIncomplete))
        }
        let numbers = parts.map { part -> Int? in
            part.count <= 4 && part.allSatisfy({ $0.isASCII && $0.isNumber }) ? Int(part) : nil
        }
        guard let day = numbers[0], let month = numbers[1], let year = numbers[2], parts[2].count == 4,
              Self.isRealDate(year: year, month: month, day: day)
        else {
            return .failure(FieldError(field: field.id, anchor: "\(field.id)-day", problem: .dateInvalid))
        }
        if field.notInFuture == true, let ty = today.year, let tm = today.month, let td = today.day,
           (year, month, day) > (ty, tm, td) {
            return .failure(FieldError(field: field.id, anchor: "\(field.id)-day", problem: .dateInFuture))
        }
        return .success(AssistantFlow.isoDate(year: year, month: month, day: day))
    }

    /// A date plus a time (`-time` input): `YYYY-MM-DDTHH:MM`.
    private func checkDateTime(_ field: FieldDefinition, required: Bool, input: [String: String]) -> Result<String?, FieldError> {
        let time = (input["\(field.id)-time"] ?? "").trimmingCharacters(in: .whitespaces)
        let dateGiven = ["day", "month", "year"].contains { !(input["\(field.id)-\($0)"] ?? "").trimmingCharacters(in: .whitespaces).isEmpty }
        if !dateGiven && time.isEmpty {
            return required ? .failure(FieldError(field: field.id, anchor: "\(field.id)-day", problem: .required)) : .success(nil)
        }
        guard dateGiven, !time.isEmpty else {
            return .failure(FieldError(field: field.id, anchor: dateGiven ? "\(field.id)-time" : "\(field.id)-day", problem: .datetimeIncomplete))
        }
        switch checkDate(field, required: true, input: input) {
        case .failure(let error): return .failure(error)
        case .success(let date):
            guard let date, let clock = Self.normalisedTime(time) else {
                return .failure(FieldError(field: field.id, anchor: "\(field.id)-time", problem: .timeInvalid))
            }
            return .success("\(date)T\(clock)")
        }
    }

    /// A number with at most `field.decimals` decimals (comma or point), stored with exactly that many.
    private func checkDecimal(_ field: FieldDefinition, raw: String) -> Result<String?, FieldError> {
        let digits = field.decimals
        let minimum = field.minValue ?? 0, maximum = field.maxValue ?? 999_999_999
        let example = (digits == 2 ? "12,50" : "12," + String(repeating: "5", count: digits))
        let parameters = ["min": String(minimum), "max": String(maximum), "digits": String(digits), "example": example]
        let text = raw.replacingOccurrences(of: " ", with: "").replacingOccurrences(of: "€", with: "")
        let parts = text.split(separator: text.contains(",") ? "," : ".", omittingEmptySubsequences: false)
        let negative = parts.first?.hasPrefix("-") == true
        let whole = negative ? parts[0].dropFirst() : parts.first ?? ""
        let fraction = parts.count == 2 ? parts[1] : ""
        guard parts.count <= 2, !whole.isEmpty, whole.count <= 9, whole.allSatisfy({ $0.isASCII && $0.isNumber }),
              fraction.count <= digits, fraction.allSatisfy({ $0.isASCII && $0.isNumber }), parts.count == 1 || !fraction.isEmpty,
              let wholeNumber = Int(whole) else {
            return .failure(FieldError(field: field.id, problem: .notADecimal, parameters: parameters))
        }
        let padded = fraction + String(repeating: "0", count: digits - fraction.count)
        // Compare in units of the last decimal, so no floating point is involved.
        let scale = Int(pow(10, Double(digits)))
        let scaled = (wholeNumber * scale + (Int(padded) ?? 0)) * (negative ? -1 : 1)
        guard scaled >= minimum * scale, scaled <= maximum * scale else {
            return .failure(FieldError(field: field.id, problem: .notADecimal, parameters: parameters))
        }
        return .success("\(negative && scaled != 0 ? "-" : "")\(wholeNumber).\(padded)")
    }

    /// `HH:MM` from "9:30", "09:30" or "9.30"; nil when it is no time of day.
    public static func normalisedTime(_ text: String) -> String? {
        let parts = text.split(separator: text.contains(":") ? ":" : ".", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
              parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let hour = Int(parts[0]), let minute = Int(parts[1]), (0...23).contains(hour), (0...59).contains(minute) else { return nil }
        return (hour < 10 ? "0" : "") + String(hour) + ":" + (minute < 10 ? "0" : "") + String(minute)
    }

    private func checkFile(_ field: FieldDefinition, required: Bool, upload: UploadedFile?, existing: String?) -> Result<(UploadedFile, String)?, FieldError> {
        guard let upload, !(upload.data.isEmpty && upload.filename.isEmpty) else {
            if existing != nil || !required { return .success(nil) }
            return .failure(FieldError(field: field.id, problem: .fileMissing))
        }
        let types = field.acceptedTypes ?? ["application/pdf", "image/png", "image/jpeg"]
        let maximum = field.maxBytes ?? 5 * 1024 * 1024
        let parameters = ["max": "\(maximum / (1024 * 1024)) MB"]
        if upload.data.isEmpty { return .failure(FieldError(field: field.id, problem: .fileEmpty)) }
        if upload.data.count > maximum { return .failure(FieldError(field: field.id, problem: .fileTooLarge, parameters: parameters)) }
        guard let type = MediaTypeSniffer.mediaType(of: upload.data), types.contains(type) else {
            return .failure(FieldError(field: field.id, problem: .fileType))
        }
        return .success((upload, type))
    }

    /// Whether all of `text` matches the XSD-style `pattern` (XSD patterns are implicitly anchored).
    public static func matches(_ text: String, pattern: String) -> Bool {
        guard let regex = regex(pattern) else { return false }
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// Compiled patterns by source (compiling is far slower than matching; definitions have few distinct patterns).
    private static let compiled = Mutex<[String: NSRegularExpression]>([:])

    /// The anchored regular expression of an XSD-style pattern, compiled once.
    static func regex(_ pattern: String) -> NSRegularExpression? {
        if let known = compiled.withLock({ $0[pattern] }) { return known }
        guard let regex = try? NSRegularExpression(pattern: "^(?:\(pattern))$") else { return nil }
        compiled.withLock { $0[pattern] = regex }
        return regex
    }

    /// Whether the Gregorian calendar has this day (years 1800...9999).
    public static func isRealDate(year: Int, month: Int, day: Int) -> Bool {
        guard (1800...9999).contains(year), (1...12).contains(month), day >= 1 else { return false }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day <= lengths[month - 1]
    }

    /// A pragmatic check of an e-mail address: one @, a non-empty local part, a dotted domain, no spaces.
    public static func isPlausibleEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64 else { return false }
        let domain = parts[1]
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && $0.count <= 63 }) else { return false }
        guard labels.allSatisfy({ $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" } }),
              labels.last!.count >= 2, labels.last!.allSatisfy(\.isLetter) else { return false }
        let localAllowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.!#$%&'*+/=?^_`{|}~-")
        return parts[0].allSatisfy { localAllowed.contains($0) } && !parts[0].hasPrefix(".") && !parts[0].hasSuffix(".")
    }
}
