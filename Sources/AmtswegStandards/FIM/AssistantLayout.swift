import AmtswegCore
import Foundation

/// Lays an XDatenfelder tree out as assistant pages.
///
/// Top-level groups and their direct child groups become pages (one topic per page); so does every group
/// or field that an activation rule switches on, with that rule as the page condition. Deeper groups are
/// flattened into their page with their label as a heading; fields in optional groups are required only
/// when something in that group was answered.
struct AssistantLayout {
    private(set) var pages: [PageDefinition] = []
    private(set) var report: ImportReport
    private let availableCodeLists: Set<String>
    private var usedPageIds = Set<String>()
    /// Rules already reported (a group used several times carries its rules each time).
    private var reportedRules = Set<String>()
    /// Where each field use landed: "instance path of its group/field id" → (page id, field key).
    private var placed: [String: (page: String, key: String)] = [:]
    /// Instance paths of fields that sit on repeated ("add another") pages.
    private var entryFields = Set<String>()

    init(report: ImportReport, availableCodeLists: Set<String>) {
        self.report = report
        self.availableCodeLists = availableCodeLists
    }

    /// A page waiting to be written after its parent, with the conditions it inherits.
    private struct PendingPage {
        let node: XDFNode
        let instancePath: String
        let conditions: [Condition]
        let optional: Bool
        /// Cardinality of a repeated group or field that gets an "add another" page of its own.
        var repetition: (min: Int, max: Int?)? = nil
    }

    /// Most entries offered for an unbounded ("*") repetition.
    static let unboundedEntries = 10

    mutating func layout(_ schema: XDFSchema) {
        var pending: [PendingPage] = []
        var loose: [XDFChild] = []
        for child in schema.children {
            if case .group = child.node {
                    pending.append(PendingPage(node: child.node, instancePath: schema.id + "/" + child.node.id, conditions: [],
                                           optional: child.minimum == 0 && child.maximum == 1,
                                           repetition: child.maximum == 1 ? nil : (child.minimum, child.maximum)))
            } else {
                loose.append(child)
            }
        }
        if !loose.isEmpty {
            let group = XDFGroup(id: schema.id, version: schema.version, label: schema.title, hint: schema.hint, rules: [], children: loose)
            pending.insert(PendingPage(node: .group(group), instancePath: schema.id, conditions: [], optional: false), at: 0)
        }
        for page in pending { emit(page, depth: 1) }
    }

    private mutating func emit(_ pending: PendingPage, depth: Int) {
        let pageId = uniquePageId(pending.node.id)
        var fields: [FieldDefinition] = []
        var rules: [PageRule] = []
        var children: [(PendingPage, Int)] = []
        let pageGroups = pending.optional ? [pending.instancePath] : []
        let repeated = pending.repetition != nil
        switch pending.node {
        case .field(let field):
            fields += mapField(field, key: field.id, required: (pending.repetition?.min ?? 1) > 0, legend: nil, optionalGroups: [],
                               instancePath: pending.instancePath, pageId: pageId, cardinality: (1, 1), referable: !repeated)
        case .group(let group):
            collect(group, instancePath: pending.instancePath, keyPrefix: "", legend: nil, optionalGroups: pageGroups,
                    pageId: pageId, depth: depth, conditions: pending.conditions, referable: !repeated, into: &fields, rules: &rules,
                    children: &children)
        }
        let title: String
        let intro: String?
        switch pending.node {
        case .group(let group): title = group.label; intro = group.hint
        case .field(let field): title = field.label; intro = nil
        }
        if fields.isEmpty && !children.isEmpty {
            // A group with only sub-pages contributes no page of its own.
        } else {
            let repeatRule = pending.repetition.map { range in
                RepeatRule(min: range.min, max: max(range.max ?? Self.unboundedEntries, max(range.min, 1)), itemLabel: LocalizedText(["de": title]))
            }
            if let range = pending.repetition {
                report.warnings.append("\(pending.node.id): Anzahl \(range.min):\(range.max.map(String.init) ?? "*") – als „weitere hinzufügen“ mit bis zu \(repeatRule!.max) Einträgen")
            }
            pages.append(PageDefinition(
                id: pageId, fimId: pending.node.id, title: LocalizedText(["de": title]), intro: intro.map { LocalizedText(["de": $0]) },
                fields: fields, showIf: Self.combine(pending.conditions), rules: rules.isEmpty ? nil : rules, repeat: repeatRule))
            report.pages += 1
            report.fields += fields.count
        }
        for (child, childDepth) in children { emit(child, depth: childDepth) }
    }

    /// Walks a group's children: fields and flattened groups go on the page, sub-pages are queued.
    private mutating func collect(
        _ group: XDFGroup, instancePath: String, keyPrefix: String, legend: String?, optionalGroups: [String], pageId: String,
        depth: Int, conditions: [Condition], referable: Bool, into fields: inout [FieldDefinition], rules pageRules: inout [PageRule],
        children: inout [(PendingPage, Int)]
    ) {
        var activations: [String: ActivationRule] = [:]
        var atLeastOne: [(XDFRule, [String])] = []
        for rule in group.rules {
            let found = RuleRecognizer.activations(of: rule)
            let directChildren = Set(group.children.map(\.node.id))
            let usable = found.filter { directChildren.contains($0.field) && directChildren.contains($0.target) }
            let note = { (outcome: String) in
                ImportReport.RuleNote(id: rule.id, name: rule.name, owner: group.id, text: rule.freeText ?? rule.script ?? "", outcome: outcome)
            }
            let firstReport = reportedRules.insert("\(rule.id):\(rule.version)@\(group.id)").inserted
            if usable.isEmpty, let ids = RuleRecognizer.atLeastOne(of: rule), ids.allSatisfy(directChildren.contains) {
                atLeastOne.append((rule, ids))
            } else if usable.isEmpty {
                if firstReport {
                    report.unmappedRules.append(note(rule.script != nil ? "Skript wird nicht ausgeführt" : "Freitextregel ohne erkannte Bedingung"))
                }
            } else {
                for activation in usable { activations[activation.target] = activation }
                if firstReport {
                    report.mappedRules.append(note(usable.map { "\($0.target) nur wenn \($0.field) ∈ {\($0.values.joined(separator: ", "))}" }.joined(separator: "; ")))
                }
            }
        }
        for child in group.children {
            let childPath = instancePath + "/" + child.node.id
            var childConditions = conditions
            if let activation = activations[child.node.id] {
                if let control = placed[instancePath + "/" + activation.field], !entryFields.contains(instancePath + "/" + activation.field) {
                    childConditions.append(Condition(page: control.page, field: control.key, isOneOf: activation.values))
                } else {
                    report.warnings.append("\(activation.ruleId): Steuerfeld \(activation.field) steht nicht vor \(child.node.id); Bedingung nicht übernommen")
                }
            }
            let isActivated = childConditions.count > conditions.count
            switch child.node {
            case .field(let field):
                // Repeated fields stay on their page as numbered inputs (address lines belong with the address);
                // repeated groups get "add another" pages.
                if isActivated {
                    children.append((PendingPage(node: child.node, instancePath: childPath, conditions: childConditions, optional: false), depth + 1))
                    continue
                }
                fields += mapField(field, key: keyPrefix + field.id, required: child.minimum > 0, legend: legend, optionalGroups: optionalGroups,
                                   instancePath: childPath, pageId: pageId, cardinality: (child.minimum, child.maximum), referable: referable)
            case .group(let sub):
                let repeats = child.maximum != 1 && referable
                if child.maximum != 1 && !repeats {
                    report.warnings.append("\(sub.id): Wiederholung \(child.minimum):\(child.maximum.map(String.init) ?? "*") in einer wiederholten Gruppe – erscheint einmal je Eintrag")
                }
                if isActivated || depth == 1 || repeats {
                    children.append((PendingPage(node: child.node, instancePath: childPath, conditions: childConditions,
                                                 optional: child.minimum == 0 && !isActivated && !repeats,
                                                 repetition: repeats ? (child.minimum, child.maximum) : nil), depth + 1))
                } else {
                    let groups = child.minimum == 0 ? optionalGroups + [childPath] : optionalGroups
                    collect(sub, instancePath: childPath, keyPrefix: keyPrefix + sub.id + ".", legend: sub.label, optionalGroups: groups,
                            pageId: pageId, depth: depth + 1, conditions: conditions, referable: referable, into: &fields, rules: &pageRules,
                            children: &children)
                }
            }
        }
        for (rule, ids) in atLeastOne {
            let placements = ids.compactMap { placed[instancePath + "/" + $0] }
            let note = ImportReport.RuleNote(id: rule.id, name: rule.name, owner: group.id, text: rule.freeText ?? "", outcome: "")
            guard placements.count == ids.count, placements.allSatisfy({ $0.page == pageId }) else {
                if reportedRules.insert("\(rule.id)@\(group.id)#unplaced").inserted {
                    report.unmappedRules.append(ImportReport.RuleNote(id: note.id, name: note.name, owner: note.owner, text: note.text,
                                                                      outcome: "Felder nicht auf einer Seite"))
                }
                continue
            }
            var check = placements.map { "filled(\($0.key))" }.joined(separator: " or ")
            if optionalGroups.contains(instancePath) {
                // In an optional group the rule binds only once the group is used at all.
                let groupKeys = placed.filter { $0.key.hasPrefix(instancePath + "/") && $0.value.page == pageId }.map(\.value.key).sorted()
                check = "not (\(groupKeys.map { "filled(\($0))" }.joined(separator: " or "))) or (\(check))"
            }
            let labels = ids.compactMap { id in fields.first { $0.id == placed[instancePath + "/" + id]?.key }?.label.text(.de) }
            pageRules.append(PageRule(
                id: "\(rule.id)@\(placements[0].key)", check: check,
                message: LocalizedText(["de": "Geben Sie mindestens eines an: \(labels.joined(separator: ", ")).",
                                        "en": "Enter at least one of: \(labels.joined(separator: ", "))."]),
                field: placements[0].key))
            if reportedRules.insert("\(rule.id)@\(group.id)#rule").inserted {
                report.mappedRules.append(ImportReport.RuleNote(id: note.id, name: note.name, owner: note.owner, text: note.text,
                                                                outcome: "Regel \(check)"))
            }
        }
    }

    /// One FIM field as one or more assistant fields (repeated fields are laid out as numbered copies).
    private mutating func mapField(
        _ field: XDFField, key: String, required: Bool, legend: String?, optionalGroups: [String], instancePath: String,
        pageId: String, cardinality: (Int, Int?), referable: Bool = true
    ) -> [FieldDefinition] {
        guard let kind = kind(for: field) else { return [] }
        var copies = 1
        if let maximum = cardinality.1, maximum > 1 {
            copies = kind == .file ? 1 : min(maximum, 10)
        } else if cardinality.1 == nil {
            copies = kind == .file ? 1 : 3
        }
        if copies == 1 && cardinality.1 != 1 {
            report.warnings.append("\(field.id): Anzahl \(cardinality.0):\(cardinality.1.map(String.init) ?? "*") – es kann zunächst eine Angabe gemacht werden")
        } else if cardinality.1 == nil {
            report.warnings.append("\(field.id): Anzahl \(cardinality.0):* – \(copies) Eingabefelder angeboten")
        }
        let labelText = LocalizedText(["de": field.label])
        var result: [FieldDefinition] = []
        for index in 0..<copies {
            let fieldKey = copies == 1 ? key : "\(key)-\(index + 1)"
            let label = copies == 1 ? labelText : LocalizedText(["de": "\(field.label) \(index + 1)"])
            let isRequired = copies == 1 ? required : index < cardinality.0
            var maxLength = field.maxLength
            var resolvedKind = kind
            if kind == .text, (maxLength ?? 0) > 200 { resolvedKind = .textarea }
            if kind == .select || kind == .radio, field.values.isEmpty, let codeList = field.codeList, !availableCodeLists.contains(codeList.uri) {
                report.warnings.append("\(field.id): Codeliste \(codeList.uri) ist nicht installiert; Freitext statt Auswahl")
                resolvedKind = .text
                maxLength = 200
            }
            let options: [FieldOption]? = (resolvedKind == .radio || resolvedKind == .select) && !field.values.isEmpty
                ? field.values.map { FieldOption(value: $0.code, label: LocalizedText(["de": $0.name])) } : nil
            let codeList = (resolvedKind == .select && field.values.isEmpty) ? field.codeList?.uri : nil
            result.append(FieldDefinition(
                id: fieldKey, fimId: field.id, fimVersion: field.version, kind: resolvedKind, label: label,
                hint: (field.hint ?? (kind == .label ? field.content : nil)).map { LocalizedText(["de": $0]) },
                required: isRequired && kind != .label, minLength: resolvedKind == .text || resolvedKind == .textarea ? field.minLength : nil,
                maxLength: resolvedKind == .text || resolvedKind == .textarea ? maxLength : nil,
                minValue: [.integer, .decimal, .currency].contains(kind) ? field.minValue.flatMap { Int($0) } : nil,
                maxValue: [.integer, .decimal, .currency].contains(kind) ? field.maxValue.flatMap { Int($0) } : nil,
                options: options, pattern: resolvedKind == .text || resolvedKind == .textarea ? pattern(for: field) : nil,
                codeList: codeList, legend: legend.map { LocalizedText(["de": $0]) },
                optionalGroups: optionalGroups.isEmpty ? nil : optionalGroups,
                characters: field.datentyp == "text_latin" && (resolvedKind == .text || resolvedKind == .textarea) ? "din91379" : nil,
                display: ["hidden", "locked"].contains(field.feldart) ? field.feldart : nil,
                value: ["hidden", "locked"].contains(field.feldart) ? field.content : nil))
            if index == 0 { placed[instancePath] = (pageId, fieldKey) }
            // Fields of repeated pages can only be used by rules of their own page, never by conditions elsewhere.
            if index == 0 && !referable { entryFields.insert(instancePath) }
        }
        return result
    }

    private mutating func kind(for field: XDFField) -> FieldKind? {
        switch field.feldart {
        case "select":
            if field.values.isEmpty && field.codeList == nil {
                report.warnings.append("\(field.id): Auswahlfeld ohne Werte und ohne Codeliste – ausgelassen")
                return nil
            }
            return field.values.count > 0 && field.values.count <= 6 ? .radio : .select
        case "label":
            return .label
        case "hidden", "locked":
            guard let content = field.content, !content.isEmpty else {
                report.warnings.append("\(field.id): Feldart \(field.feldart) ohne Inhalt – ausgelassen")
                return nil
            }
        case "input":
            break
        default:
            report.warnings.append("\(field.id): unbekannte Feldart \(field.feldart) – ausgelassen")
            return nil
        }
        switch field.datentyp {
        case "text": return .text
        case "text_latin": return .text
        case "num_int": return .integer
        case "num": return .decimal
        case "num_currency": return .currency
        case "date": return .date
        case "time": return .time
        case "datetime": return .datetime
        case "bool": return .boolean
        case "file": return .file
        default:
            report.warnings.append("\(field.id): Datentyp \(field.datentyp) wird nicht unterstützt – ausgelassen")
            return nil
        }
    }

    private func pattern(for field: XDFField) -> String? {
        if let pattern = field.pattern {
            // XSD patterns are anchored by definition; a trailing "$" some files carry is redundant.
            return pattern.hasSuffix("$") && !pattern.hasSuffix("\\$") ? String(pattern.dropLast()) : pattern
        }
        return nil
    }

    private mutating func uniquePageId(_ base: String) -> String {
        var candidate = base
        var counter = 2
        while usedPageIds.contains(candidate) {
            candidate = "\(base)-\(counter)"
            counter += 1
        }
        usedPageIds.insert(candidate)
        return candidate
    }

    /// Several inherited conditions as one (the first, with the others in `allOf`).
    static func combine(_ conditions: [Condition]) -> Condition? {
        guard let first = conditions.last else { return nil }
        let rest = Array(conditions.dropLast())
        return Condition(page: first.page, field: first.field, isOneOf: first.isOneOf, isNoneOf: first.isNoneOf, allOf: rest.isEmpty ? nil : rest)
    }
}
