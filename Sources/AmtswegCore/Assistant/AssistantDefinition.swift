import Foundation

/// A cross-field rule on a page, e.g. "street address or P.O. box": a yes/no expression and its message.
public struct PageRule: Codable, Sendable, Equatable {
    /// Stable id (a FIM rule id where the rule comes from FIM).
    public let id: String
    /// The expression that must be true (see `ExpressionParser`).
    public let check: String
    /// What the citizen reads when it is false.
    public let message: LocalizedText
    /// The field the error summary links to.
    public let field: String

    /// Creates a rule.
    public init(id: String, check: String, message: LocalizedText, field: String) {
        self.id = id
        self.check = check
        self.message = message
        self.field = field
    }
}

/// An "add another" page: its fields are asked once per entry, between `min` and `max` entries.
public struct RepeatRule: Codable, Sendable, Equatable {
    /// Fewest entries.
    public let min: Int
    /// Most entries.
    public let max: Int
    /// What one entry is called ("Wunschtermin"), numbered in headings.
    public let itemLabel: LocalizedText

    /// Creates a rule.
    public init(min: Int, max: Int, itemLabel: LocalizedText) {
        self.min = min
        self.max = max
        self.itemLabel = itemLabel
    }
}

/// A value computed from answers (and the authority's prices), e.g. the fee; checked for cycles when loaded.
public struct ComputedValue: Codable, Sendable, Equatable {
    /// Id, referenced as `computed.<id>`.
    public let id: String
    /// What it is, shown on the check page.
    public let label: LocalizedText
    /// An integer expression.
    public let expression: String
    /// `cents` for euro amounts; nil for plain numbers.
    public let unit: String?

    /// Creates a computed value.
    public init(id: String, label: LocalizedText, expression: String, unit: String? = nil) {
        self.id = id
        self.label = label
        self.expression = expression
        self.unit = unit
    }
}

/// Marks an assistant as an appointment request: the repeated page with the citizen's preferred dates and times.
public struct AppointmentRequest: Codable, Sendable, Equatable {
    /// The repeated page of preferred appointments.
    public let page: String
    /// Its date field.
    public let date: String
    /// Its time field.
    public let time: String

    /// Creates the marker.
    public init(page: String, date: String, time: String) {
        self.page = page
        self.date = date
        self.time = time
    }
}

/// One page of an assistant: one topic, a few fields, optionally shown only under a condition.
public struct PageDefinition: Codable, Sendable, Equatable {
    /// Stable id, part of the page URL and the structured-data group key.
    public let id: String
    /// FIM Datenfeldgruppe id when the page mirrors one.
    public let fimId: String?
    /// Page heading (the question for single-question pages).
    public let title: LocalizedText
    /// Optional introduction under the heading.
    public let intro: LocalizedText?
    /// The questions.
    public internal(set) var fields: [FieldDefinition]
    /// The page is shown only when this holds.
    public let showIf: Condition?
    /// Cross-field rules checked when the page is saved.
    public let rules: [PageRule]?
    /// A yes/no expression over earlier pages: the page is shown only when it holds (and `showIf`, if any).
    public let showWhen: String?
    /// Makes the page an "add another" list of entries.
    public let `repeat`: RepeatRule?

    /// Creates a page.
    public init(id: String, fimId: String? = nil, title: LocalizedText, intro: LocalizedText? = nil, fields: [FieldDefinition],
                showIf: Condition? = nil, rules: [PageRule]? = nil, showWhen: String? = nil, repeat: RepeatRule? = nil) {
        self.id = id
        self.fimId = fimId
        self.title = title
        self.intro = intro
        self.fields = fields
        self.showIf = showIf
        self.rules = rules
        self.showWhen = showWhen
        self.repeat = `repeat`
    }

    /// Whether the page takes file uploads and so needs multipart encoding.
    public var hasFileField: Bool { fields.contains { $0.kind == .file } }

    /// The field with `id`, if any.
    public func field(_ id: String) -> FieldDefinition? { fields.first { $0.id == id } }
}

/// How the fee of a service is computed: a computed value in cents, or (version 1 files) a copies field.
public struct FeeRule: Codable, Sendable, Equatable {
    /// Page of the copies count (first copy at the first price, the others at the further price).
    public let copiesPage: String?
    /// Field id of the copies count.
    public let copiesField: String?
    /// Id of the computed value (in cents) that is the fee.
    public let computed: String?

    /// Creates a fee rule.
    public init(copiesPage: String? = nil, copiesField: String? = nil, computed: String? = nil) {
        self.copiesPage = copiesPage
        self.copiesField = copiesField
        self.computed = computed
    }
}

/// Citizen-facing facts about the service shown before the assistant starts.
public struct ServiceInformation: Codable, Sendable, Equatable {
    /// What the service is.
    public let description: LocalizedText
    /// Who may apply.
    public let eligibility: LocalizedText
    /// Documents and information needed.
    public let requirements: [LocalizedText]
    /// How long it takes.
    public let processingTime: LocalizedText
    /// Legal basis.
    public let legalBasis: LocalizedText

    /// Creates the service information.
    public init(description: LocalizedText, eligibility: LocalizedText, requirements: [LocalizedText], processingTime: LocalizedText, legalBasis: LocalizedText) {
        self.description = description
        self.eligibility = eligibility
        self.requirements = requirements
        self.processingTime = processingTime
        self.legalBasis = legalBasis
    }
}

/// A published, immutable version of a guided application (Onlinedienst) for one Leistung.
public struct AssistantDefinition: Codable, Sendable, Equatable {
    /// Stable assistant id.
    public let id: String
    /// Published version; a version never changes after publication.
    public let version: String
    /// 14-digit LeiKa key of the Leistung.
    public let leikaKey: String
    /// Title of the service.
    public let title: LocalizedText
    /// Information shown on the service page.
    public let information: ServiceInformation
    /// The pages in order.
    public internal(set) var pages: [PageDefinition]
    /// Fee computation, if the service costs money.
    public let fee: FeeRule?
    /// Values computed from the answers (e.g. the fee).
    public let computed: [ComputedValue]?
    /// Set when the service is an appointment request.
    public let appointment: AppointmentRequest?

    /// Creates a definition; call `check(source:)` before using it.
    public init(id: String, version: String, leikaKey: String, title: LocalizedText, information: ServiceInformation, pages: [PageDefinition],
                fee: FeeRule? = nil, computed: [ComputedValue]? = nil, appointment: AppointmentRequest? = nil) {
        self.id = id
        self.version = version
        self.leikaKey = leikaKey
        self.title = title
        self.information = information
        self.pages = pages
        self.fee = fee
        self.computed = computed
        self.appointment = appointment
    }

    /// The definition with the options of code-list select fields filled in from `codeLists` (keyed by canonical URI).
    public func resolvingCodeLists(_ codeLists: [String: [FieldOption]], source: String) throws -> AssistantDefinition {
        var copy = self
        for pageIndex in copy.pages.indices {
            for fieldIndex in copy.pages[pageIndex].fields.indices {
                guard let uri = copy.pages[pageIndex].fields[fieldIndex].codeList else { continue }
                guard let options = codeLists[uri] else {
                    throw DefinitionError(source: source, message: "field \(copy.pages[pageIndex].id).\(copy.pages[pageIndex].fields[fieldIndex].id) needs code list \(uri), which is not installed")
                }
                copy.pages[pageIndex].fields[fieldIndex].options = options
            }
        }
        return copy
    }

    /// The page with `id`, if any.
    public func page(_ id: String) -> PageDefinition? { pages.first { $0.id == id } }

    /// Parses and checks a definition file; throws a message naming the problem.
    public static func load(json: Data, source: String) throws -> AssistantDefinition {
        let definition: AssistantDefinition
        do {
            definition = try JSONDecoder().decode(AssistantDefinition.self, from: json)
        } catch {
            throw DefinitionError(source: source, message: "cannot be parsed: \(error)")
        }
        try definition.check(source: source)
        return definition
    }

    /// Rejects definitions whose ids collide, whose expressions do not check, or whose computed values form a cycle.
    public func check(source: String) throws {
        guard leikaKey.count == 14, leikaKey.hasPrefix("99"), leikaKey.allSatisfy(\.isNumber) else {
            throw DefinitionError(source: source, message: "LeiKa key \(leikaKey) is not 14 digits starting with 99")
        }
        var seenPages: [String: PageDefinition] = [:]
        for page in pages {
            guard seenPages[page.id] == nil else {
                throw DefinitionError(source: source, message: "page id \(page.id) is used twice")
            }
            guard page.id != "computed", page.id != "tariff" else {
                throw DefinitionError(source: source, message: "page id \(page.id) is reserved")
            }
            if let rule = page.repeat, rule.min < 0 || rule.max < max(rule.min, 1) || rule.max > 50 {
                throw DefinitionError(source: source, message: "page \(page.id) repeats \(rule.min)...\(rule.max) times, which is no valid range (at most 50)")
            }
            let earlier = Set(seenPages.keys)
            if let showWhen = page.showWhen {
                do {
                    _ = try ExpressionChecker(definition: self, page: page, samePageFields: [], otherPages: earlier, allowsPrices: false).checkRule(showWhen)
                } catch {
                    throw DefinitionError(source: source, message: "showWhen of page \(page.id): \(error)")
                }
            }
            var seenFields: [FieldDefinition] = []
            for field in page.fields {
                try check(field, on: page, before: seenFields, earlierPages: earlier, source: source)
                seenFields.append(field)
            }
            for condition in page.showIf?.all ?? [] {
                guard let target = seenPages[condition.page]?.field(condition.field) else {
                    throw DefinitionError(
                        source: source,
                        message: "condition of page \(page.id) refers to \(condition.page).\(condition.field), which is not on an earlier page")
                }
                let known = Set((target.options ?? []).map(\.value))
                for value in (condition.isOneOf ?? []) + (condition.isNoneOf ?? []) where !known.isEmpty && !known.contains(value) {
                    throw DefinitionError(source: source, message: "condition of page \(page.id) compares with unknown option \(value)")
                }
            }
            seenPages[page.id] = page
            for rule in page.rules ?? [] {
                do {
                    let checker = page.repeat == nil
                        ? ExpressionChecker(definition: self, page: page)
                        : ExpressionChecker(definition: self, page: page, samePageFields: page.fields, otherPages: earlier, allowsPrices: false)
                    _ = try checker.checkRule(rule.check)
                } catch {
                    throw DefinitionError(source: source, message: "rule \(rule.id) on page \(page.id): \(error)")
                }
                guard page.field(rule.field) != nil else {
                    throw DefinitionError(source: source, message: "rule \(rule.id) on page \(page.id) links to unknown field \(rule.field)")
                }
            }
        }
        try checkComputedAndFee(pages: seenPages, source: source)
    }

    /// Checks one field: unique id, options, pattern, decimals, character set and its condition.
    private func check(_ field: FieldDefinition, on page: PageDefinition, before: [FieldDefinition], earlierPages: Set<String>, source: String) throws {
        let name = "\(page.id).\(field.id)"
        guard !before.contains(where: { $0.id == field.id }) else {
            throw DefinitionError(source: source, message: "field \(name) is used twice")
        }
        if field.kind == .radio || field.kind == .select, (field.options ?? []).isEmpty, field.codeList == nil {
            throw DefinitionError(source: source, message: "\(field.kind.rawValue) field \(name) has no options")
        }
        if let pattern = field.pattern, (try? NSRegularExpression(pattern: pattern)) == nil {
            throw DefinitionError(source: source, message: "field \(name) has an invalid pattern")
        }
        if let digits = field.fractionDigits, !(1...4).contains(digits) {
            throw DefinitionError(source: source, message: "field \(name) has \(digits) fraction digits; 1 to 4 are possible")
        }
        if let display = field.display {
            guard display == "hidden" || display == "locked", let value = field.value, field.kind != .file, field.kind != .label else {
                throw DefinitionError(source: source, message: "field \(name) is \(display): hidden or locked fields need a value and an answer kind")
            }
            if let options = field.options, field.codeList == nil, !options.contains(where: { $0.value == value }) {
                throw DefinitionError(source: source, message: "field \(name) has the fixed value \(value), which is not one of its options")
            }
        }
        if let characters = field.characters, characters != "din91379" {
            throw DefinitionError(source: source, message: "field \(name) uses unknown character set \(characters)")
        }
        if let showWhen = field.showWhen {
            do {
                _ = try ExpressionChecker(definition: self, page: page, samePageFields: before, otherPages: earlierPages, allowsPrices: false)
                    .checkRule(showWhen)
            } catch {
                throw DefinitionError(source: source, message: "showWhen of field \(name): \(error)")
            }
        }
    }

    /// Checks computed values (types, cycles), the fee and the appointment marker.
    private func checkComputedAndFee(pages: [String: PageDefinition], source: String) throws {
        let checker = ComputedValues.checker(self)
        var ids = Set<String>()
        for value in computed ?? [] {
            guard ids.insert(value.id).inserted else {
                throw DefinitionError(source: source, message: "computed value \(value.id) is defined twice")
            }
            do {
                _ = try checker.checkComputed(value.expression)
            } catch {
                throw DefinitionError(source: source, message: "computed value \(value.id): \(error)")
            }
        }
        do {
            _ = try ComputedValues.order(self)
        } catch {
            throw DefinitionError(source: source, message: "\(error)")
        }
        if let fee {
            if let id = fee.computed {
                guard computed?.first(where: { $0.id == id })?.unit == "cents" else {
                    throw DefinitionError(source: source, message: "fee refers to computed value \(id), which is not an amount in cents")
                }
            } else {
                guard let page = fee.copiesPage, let field = fee.copiesField, pages[page]?.field(field)?.kind == .integer else {
                    throw DefinitionError(source: source, message: "fee refers to \(fee.copiesPage ?? "?").\(fee.copiesField ?? "?"), which is no integer field")
                }
            }
        }
        if let appointment {
            guard let page = pages[appointment.page], page.repeat != nil,
                  page.field(appointment.date)?.kind == .date, page.field(appointment.time)?.kind == .time else {
                throw DefinitionError(source: source, message: "appointment must name a repeated page with a date and a time field")
            }
        }
    }
}

/// A definition file that cannot be used, with the file and the reason.
public struct DefinitionError: Error, CustomStringConvertible, Equatable {
    /// The file or resource name.
    public let source: String
    /// What is wrong.
    public let message: String

    /// Creates an error for `source`.
    public init(source: String, message: String) {
        self.source = source
        self.message = message
    }

    public var description: String { "\(source): \(message)" }
}
