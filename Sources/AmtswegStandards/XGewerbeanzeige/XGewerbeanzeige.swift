import AmtswegCore
import Foundation

/// XGewerbeanzeige 2.2 messages from the answers of the Gewerbeanmeldung assistant: element names, order and
/// namespace as in the KoSIT sample `abh.gewerbemeldung.0500` (see docs/xgewerbeanzeige-mapping.md for every source).
///
/// Only what the public samples prove is written. Ummeldung and Abmeldung, and Anmeldungen for reasons other than a
/// new business, need code lists (grund…Schluessel) that are not public here; they are refused with `.unavailable`
/// instead of guessing codes.
public enum XGewerbeanzeige {
    /// The namespace of version 2.2.
    public static let namespace = "http://www.xgewerbeanzeige.de/spezifikation/2.2"
    /// The assistant this message is made from.
    public static let assistantId = "gewerbeanmeldung"

    /// The Gewerbeamt writing the message.
    public struct Authority: Sendable {
        public let name: String
        /// Amtlicher Regionalschlüssel, 12 digits.
        public let ars: String
        public let office: String
        public let email: String

        /// An authority.
        public init(name: String, ars: String, office: String, email: String) {
            self.name = name
            self.ars = ars
            self.office = office
            self.email = email
        }

        /// The 8-digit Amtlicher Gemeindeschlüssel: Land, Regierungsbezirk, Kreis and Gemeinde of the ARS.
        public var ags: String? {
            guard ars.count == 12, ars.allSatisfy(\.isASCIIDigit) else { return nil }
            return String(ars.prefix(5)) + String(ars.suffix(3))
        }
    }

    /// Why no message can be made.
    public enum Unavailable: Error, Equatable, CustomStringConvertible {
        /// The code for this reason, legal form or kind of notification is not known from public sources.
        case unknownCode(String)
        /// An answer the message needs is missing.
        case missing(String)

        public var description: String {
            switch self {
            case .unknownCode(let what): return "no public XGewerbeanzeige 2.2 code for \(what)"
            case .missing(let what): return "answer missing: \(what)"
            }
        }
    }

    /// The message of one Gewerbeanmeldung (`xga:abh.gewerbemeldung.0500` with one `xga:anmeldung`).
    public static func anmeldung(
        answers: [String: [String: String]], caseNumber: String, submittedAt: Date, authority: Authority,
        messageId: UUID = UUID(), businessId: UUID = UUID(), satzId: UUID = UUID(), createdAt: Date = Date(), test: Bool = false
    ) throws(Unavailable) -> String {
        let a = Answers(pages: answers)
        guard a["reason", "reason"] == "new" else { throw .unknownCode("Anmeldung reason \(a["reason", "reason"] ?? "-")") }
        guard let ags = authority.ags else { throw .missing("ARS of the authority") }
        let rechtsform = try legalForm(a)
        var xml = XMLWriter()
        var root: [(String, String)] = [("xmlns:xga", namespace), ("produkt", "Amtsweg"), ("produkthersteller", "Amtsweg"),
                                        ("produktversion", "1"), ("standard", "XGewerbeanzeige"), ("version", "2.2")]
        if test { root.append(("test", "100")) }
        xml.element("xga:abh.gewerbemeldung.0500", root) { x in
            x.element("xga:nachrichtenkopf") { x in
                x.element("xga:identifikation.nachricht") { x in
                    x.leaf("xga:nachrichtenUUID", messageId.uuidString.lowercased())
                    x.code("xga:nachrichtentyp", "0500")
                    x.leaf("xga:erstellungszeitpunkt", dateTime(createdAt))
                }
                // Without a configured recipient the message is addressed to the authority's own Gewerbeamt.
                x.element("xga:leser") { x in behoerde(&x, authority: authority, ags: ags) }
                x.element("xga:autor") { x in behoerde(&x, authority: authority, ags: ags) }
            }
            x.element("xga:satz") { x in
                x.element("xga:anmeldung") { x in
                    x.leaf("xga:satzErstellung", dateTime(createdAt))
                    x.leaf("xga:ereigniszeitpunkt", dateTime(submittedAt))
                    x.element("xga:autor") { x in behoerde(&x, authority: authority, ags: ags) }
                    x.code("xga:istKorrektur", "0")
                    x.code("xga:gemeindeSchluessel", ags, [("listVersionID", "2019-05-31")])
                    x.leaf("xga:gemeindeMeldungNr", caseNumber)
                    x.leaf("xga:gewerbebetriebID", businessId.uuidString.lowercased())
                    x.leaf("xga:uuid", satzId.uuidString.lowercased())
                    gewerbe(&x, a, rechtsform: rechtsform)
                    x.optional("xga:gueltigAb", a["start", "start_date"])
                    x.leaf("xga:datumMeldung", date(submittedAt))
                    taetigkeiten(&x, a["activity", "activity"] ?? "")
                    x.code("xga:grundAnmeldungSchluessel", "01")
                }
            }
        }
        return xml.text
    }

    /// Answers by page and field, with the repeated-entry keys `field[n]`.
    struct Answers {
        let pages: [String: [String: String]]
        subscript(page: String, field: String) -> String? {
            guard let value = pages[page]?[field]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
            return value
        }
        func isTrue(_ page: String, _ field: String) -> Bool { self[page, field] == "true" }
    }

    private static func behoerde(_ x: inout XMLWriter, authority: Authority, ags: String) {
        x.element("xga:behoerdenkennung") { x in
            x.code("xga:praefix", "MELDID", [("listVersionID", "7")])
            x.code("xga:kennung", ags, [("listURI", "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:ags"), ("listVersionID", "2018-01-31")])
        }
        if !authority.email.isEmpty {
            x.element("xga:erreichbarkeit") { x in
                x.code("xga:kanal", "01")
                x.leaf("xga:kennung", authority.email)
            }
        }
        x.leaf("xga:behoerdenname", authority.office.isEmpty ? authority.name : "\(authority.office) \(authority.name)")
    }

    /// The 3-digit rechtsformSchluessel; natural persons without a register entry are 180.
    private static func legalForm(_ a: Answers) throws(Unavailable) -> String {
        let codes = ["gbr": "270", "ohg": "210", "kg": "220", "gmbh_co_kg": "230", "gmbh": "350", "ug": "351", "ag": "310", "eg": "400", "ev": "590"]
        switch a["owner_type", "owner_type"] {
        case "natural": return "180"
        case "partnership":
            let form = a["company", "legal_form_partnership"] ?? "-"
            guard let code = codes[form] else { throw .unknownCode("legal form \(form)") }
            return code
        case "legal_entity":
            let form = a["company", "legal_form_entity"] ?? "-"
            guard let code = codes[form] else { throw .unknownCode("legal form \(form)") }
            return code
        default: throw .missing("owner_type")
        }
    }

    private static func gewerbe(_ x: inout XMLWriter, _ a: Answers, rechtsform: String) {
        x.element("xga:gewerbe") { x in
            x.element("xga:betrieb") { x in
                x.leaf("xga:ID", "1")
                if a["owner_type", "owner_type"] != "natural", let name = a["company", "company_name"] {
                    if a.isTrue("company", "registered") {
                        x.leaf("xga:eingetragenerName", name)
                        x.optional("xga:eintragungNr", a["register", "register_number"])
                        let court = a["register", "register_court"].map { $0.hasPrefix("Amtsgericht ") ? String($0.dropFirst(12)) : $0 }
                        if a["register", "register_type"] != "foreign" { x.optional("xga:eintragungOrt", court) }
                        let letters = ["hra": "A", "hrb": "B", "vr": "V"]
                        if let letter = a["register", "register_type"].flatMap({ letters[$0] }) { x.code("xga:eintragungArt", letter) }
                    } else {
                        x.leaf("xga:geschaeftsbezeichnung", name)
                    }
                }
                x.code("xga:rechtsformSchluessel", rechtsform)
            }
            x.optional("xga:anzahlVollzeitBeschaeftigte", a["start", "employees_full"])
            x.optional("xga:anzahlTeilzeitBeschaeftigte", a["start", "employees_part"])
            let kind = a["activity", "business_type"]
            x.element("xga:betriebArt") { x in
                for (element, value) in [("xga:industrie", "industry"), ("xga:handwerk", "craft"), ("xga:handel", "trade"), ("xga:sonstiges", "other")] {
                    x.code(element, kind == value ? "1" : "0")
                }
            }
            let establishment = ["main": "1", "branch": "2", "dependent": "3"][a["establishment", "establishment"] ?? "main"] ?? "1"
            x.code("xga:niederlassungArt", establishment)
            x.code("xga:istReisegewerbe", "0")
            x.code("xga:istNebenerwerb", a.isTrue("start", "secondary") ? "1" : "0")
            if a["permits", "craft"] == "licensed" {
                x.element("xga:handwerkskarte") { x in
                    x.code("xga:status", "1")
                    x.optional("xga:ausgestelltAm", a["permits", "craft_card_date"])
                }
            }
            address(&x, a, page: "site")
            for (field, channel) in [("F60000000242", "01"), ("F60000000240", "02"), ("website", "09")] {
                if let value = a["site", field] {
                    x.element("xga:erreichbarkeit") { x in
                        x.code("xga:kanal", channel)
                        x.leaf("xga:kennung", value)
                    }
                }
            }
            if establishment != "1" {
                x.element("xga:hauptniederlassung") { x in address(&x, a, page: "head_office") }
            }
            applicant(&x, a)
            if a["owner_type", "owner_type"] == "legal_entity" {
                let count = Int(a["further_representatives", "#entries"] ?? "") ?? 0
                for index in stride(from: 1, through: count, by: 1) { representative(&x, a, index: index) }
            }
        }
    }

    private static func address(_ x: inout XMLWriter, _ a: Answers, page: String, suffix: String = "") {
        x.element("xga:anschrift") { x in
            x.optional("xga:strasse", a[page, "F60000000243\(suffix)"])
            x.optional("xga:hausNrVon", a[page, "F60000000244\(suffix)"])
            x.optional("xga:ort", a[page, "F60000000247\(suffix)"])
            x.optional("xga:plz", a[page, "F60000000246\(suffix)"])
            x.code("xga:nationSchluessel", "276", [("listVersionID", "2")])
        }
    }

    private static func applicant(_ x: inout XMLWriter, _ a: Answers) {
        x.element("xga:beteiligtePerson") { x in
            x.code("xga:personFunktion", a["owner_type", "owner_type"] == "natural" ? "1" : "3")
            x.optional("xga:familienname", a["person", "F60000000227"])
            x.optional("xga:vorname", a["person", "F60000000228"])
            if let gender = ["m": "1", "w": "2"][a["person", "gender"] ?? ""] { x.code("xga:geschlecht", gender, [("listVersionID", "3")]) }
            x.optional("xga:geburtsdatum", a["birth", "G60000083"].flatMap(birthDate))
            x.optional("xga:geburtsort", a["birth", "F00000000067"])
            x.optional("xga:geburtsland", a["birth", "F60000000235"])
            let nationalities = [a["nationality", "F60000000236"], a["nationality", "further_nationality"]].compactMap { $0 }
            if !nationalities.isEmpty {
                x.element("xga:staatangehoerigkeiten") { x in
                    for code in nationalities { x.code("xga:staatsangehoerigkeitSchluessel", code, [("listVersionID", "2019-04-01")]) }
                }
            }
            address(&x, a, page: "home")
            if let email = a["contact", "F60000000242"] {
                x.element("xga:erreichbarkeit") { x in
                    x.code("xga:kanal", "01")
                    x.leaf("xga:kennung", email)
                }
            }
            if a.isTrue("nationality", "residence_title_needed") {
                x.element("xga:aufenthaltstitel") { x in
                    x.code("xga:status", "1")
                    x.optional("xga:ausgestelltAm", a["residence_title", "title_issued"])
                    x.optional("xga:ausgestelltVonName", a["residence_title", "title_authority"])
                }
            }
        }
    }

    private static func representative(_ x: inout XMLWriter, _ a: Answers, index: Int) {
        let page = "further_representatives", n = "[\(index)]"
        x.element("xga:beteiligtePerson") { x in
            x.code("xga:personFunktion", "3")
            x.optional("xga:familienname", a[page, "F60000000227\(n)"])
            x.optional("xga:vorname", a[page, "F60000000228\(n)"])
            x.optional("xga:geburtsdatum", a[page, "G60000083\(n)"].flatMap(birthDate))
            x.optional("xga:geburtsort", a[page, "F00000000067\(n)"])
            if let nationality = a[page, "F60000000236\(n)"] {
                x.element("xga:staatangehoerigkeiten") { x in
                    x.code("xga:staatsangehoerigkeitSchluessel", nationality, [("listVersionID", "2019-04-01")])
                }
            }
            address(&x, a, page: page, suffix: n)
        }
    }

    private static func taetigkeiten(_ x: inout XMLWriter, _ text: String) {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        x.element("xga:taetigkeitenGesamt") { x in
            x.element("xga:schwerpunkt") { x in x.leaf("xga:taetigkeitSchwerpunkt", lines.first ?? text) }
            if lines.count > 1 {
                x.element("xga:weitereTaetigkeiten") { x in
                    x.leaf("xga:taetigkeitenZusammengefasst", lines.dropFirst().map { $0.replacingOccurrences(of: "|", with: "/") }.joined(separator: "|"))
                }
            }
        }
    }

    /// yyyy-MM-dd → DDMMYYYY, as the samples write birth dates.
    static func birthDate(_ iso: String) -> String? {
        let parts = iso.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2 else { return nil }
        return "\(parts[2])\(parts[1])\(parts[0])"
    }

    private static func berlin() -> TimeZone { TimeZone(identifier: "Europe/Berlin") ?? .gmt }

    static func dateTime(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = berlin()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    static func date(_ date: Date) -> String {
        ISO8601DateFormatter.string(from: date, timeZone: berlin(), formatOptions: [.withFullDate])
    }
}
