import Foundation

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
}

/// Checks a page's form input against its definition on the server; dates are checked against `today`.
public struct PageValidator: Sendable {
    /// The current calendar date (Europe/Berlin), for "not in the future".
    public let today: DateComponents

    /// Creates a validator for the given day.
    public init(today: DateComponents) { self.today = today }

    /// Creates a validator for the current day in German civil time.
    public init(now: Date = Date()) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Berlin") ?? .gmt
        today = calendar.dateComponents([.year, .month, .day], from: now)
    }

    /// Validates `input` (form name → value) and `uploads` for `page`; `existing` keeps earlier uploads.
    public func validate(
        page: PageDefinition, input: [String: String], uploads: [String: UploadedFile] = [:],
        existing: [String: String] = [:], definition: AssistantDefinition? = nil, answers: Answers = Answers()
    ) -> PageValidation {
        var values: [String: String] = [:]
        var files: [String: (UploadedFile, String)] = [:]
        var errors: [FieldError] = []
        let groupsInUse = Self.optionalGroupsInUse(page: page, input: input, uploads: uploads, existing: existing)
        for field in page.fields where field.kind != .label {
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
        if errors.isEmpty, let definition, let rules = page.rules {
            let checker = ExpressionChecker(definition: definition, page: page)
            let today = String(format: "%04d-%02d-%02d", self.today.year ?? 0, self.today.month ?? 0, self.today.day ?? 0)
            var known = values
            for field in files.keys { known[field] = "uploaded" }
            for rule in rules {
                guard let expression = try? ExpressionParser.parse(rule.check) else { continue }
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
            case .date: given = ["day", "month", "year"].contains { !(input["\(field.id)-\($0)"] ?? "").trimmingCharacters(in: .whitespaces).isEmpty }
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
            if let pattern = field.pattern, !Self.matches(normalised, pattern: pattern) {
                return .failure(FieldError(field: field.id, problem: .patternMismatch))
            }
            return .success(normalised)
        case .date, .file, .label:
            return .success(nil)
        }
    }

    private func anchor(_ field: FieldDefinition) -> String {
        switch field.kind {
        case .radio: return "\(field.id)-\(field.options?.first?.value ?? "")"
        case .boolean: return "\(field.id)-true"
        case .date: return "\(field.id)-day"
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
        return .success(String(format: "%04d-%02d-%02d", year, month, day))
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
        guard let regex = try? NSRegularExpression(pattern: "^(?:\(pattern))$") else { return false }
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
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
