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
    public let fields: [FieldDefinition]
    /// The page is shown only when this holds.
    public let showIf: Condition?
    /// Cross-field rules checked when the page is saved.
    public let rules: [PageRule]?

    /// Creates a page.
    public init(id: String, fimId: String? = nil, title: LocalizedText, intro: LocalizedText? = nil, fields: [FieldDefinition],
                showIf: Condition? = nil, rules: [PageRule]? = nil) {
        self.id = id
        self.fimId = fimId
        self.title = title
        self.intro = intro
        self.fields = fields
        self.showIf = showIf
        self.rules = rules
    }

    /// Whether the page takes file uploads and so needs multipart encoding.
    public var hasFileField: Bool { fields.contains { $0.kind == .file } }

    /// The field with `id`, if any.
    public func field(_ id: String) -> FieldDefinition? { fields.first { $0.id == id } }
}

/// How the fee of a service is computed from the answers.
public struct FeeRule: Codable, Sendable, Equatable {
    /// Page and field whose integer answer is the number of copies.
    public let copiesPage: String
    /// Field id of the copies count.
    public let copiesField: String

    /// Creates a fee rule.
    public init(copiesPage: String, copiesField: String) {
        self.copiesPage = copiesPage
        self.copiesField = copiesField
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

    /// Creates a definition; call `check(source:)` before using it.
    public init(id: String, version: String, leikaKey: String, title: LocalizedText, information: ServiceInformation, pages: [PageDefinition], fee: FeeRule? = nil) {
        self.id = id
        self.version = version
        self.leikaKey = leikaKey
        self.title = title
        self.information = information
        self.pages = pages
        self.fee = fee
    }

    /// The definition with the options of code-list select fields filled in from `codeLists` (keyed by canonical URI).
    public func resolvingCodeLists(_ codeLists: [String: [FieldOption]], source: String) throws -> AssistantDefinition {
        var copy = self
        for pageIndex in copy.pages.indices {
            var fields = copy.pages[pageIndex].fields
            for fieldIndex in fields.indices {
                guard let uri = fields[fieldIndex].codeList else { continue }
                guard let options = codeLists[uri] else {
                    throw DefinitionError(source: source, message: "field \(copy.pages[pageIndex].id).\(fields[fieldIndex].id) needs code list \(uri), which is not installed")
                }
                fields[fieldIndex].options = options
            }
            copy.pages[pageIndex] = PageDefinition(
                id: copy.pages[pageIndex].id, fimId: copy.pages[pageIndex].fimId, title: copy.pages[pageIndex].title,
                intro: copy.pages[pageIndex].intro, fields: fields, showIf: copy.pages[pageIndex].showIf, rules: copy.pages[pageIndex].rules)
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

    /// Rejects definitions whose ids collide or whose conditions point at unknown or later fields.
    public func check(source: String) throws {
        guard leikaKey.count == 14, leikaKey.hasPrefix("99"), leikaKey.allSatisfy(\.isNumber) else {
            throw DefinitionError(source: source, message: "LeiKa key \(leikaKey) is not 14 digits starting with 99")
        }
        var seenPages: [String: PageDefinition] = [:]
        for page in pages {
            guard seenPages[page.id] == nil else {
                throw DefinitionError(source: source, message: "page id \(page.id) is used twice")
            }
            var seenFields = Set<String>()
            for field in page.fields {
                guard seenFields.insert(field.id).inserted else {
                    throw DefinitionError(source: source, message: "field \(page.id).\(field.id) is used twice")
                }
                if field.kind == .radio || field.kind == .select, (field.options ?? []).isEmpty, field.codeList == nil {
                    throw DefinitionError(source: source, message: "\(field.kind.rawValue) field \(page.id).\(field.id) has no options")
                }
                if let pattern = field.pattern, (try? NSRegularExpression(pattern: pattern)) == nil {
                    throw DefinitionError(source: source, message: "field \(page.id).\(field.id) has an invalid pattern")
                }
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
                    _ = try ExpressionChecker(definition: self, page: page).checkRule(rule.check)
                } catch {
                    throw DefinitionError(source: source, message: "rule \(rule.id) on page \(page.id): \(error)")
                }
                guard page.field(rule.field) != nil else {
                    throw DefinitionError(source: source, message: "rule \(rule.id) on page \(page.id) links to unknown field \(rule.field)")
                }
            }
        }
        if let fee {
            guard seenPages[fee.copiesPage]?.field(fee.copiesField)?.kind == .integer else {
                throw DefinitionError(source: source, message: "fee refers to \(fee.copiesPage).\(fee.copiesField), which is no integer field")
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
