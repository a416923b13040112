import Foundation
import Testing
@testable import AmtswegStandards

@Suite("XGewerbeanzeige 2.2 Gewerbeanmeldung")
struct XGewerbeanzeigeTests {
    static let authority = XGewerbeanzeige.Authority(name: "Stadt Musterstadt", ars: "146270140140", office: "Gewerbeamt",
                                                     email: "gewerbe@musterstadt.example")
    /// A sole trader opening a hairdresser's with a Handwerkskarte, as in the KoSIT sample.
    static let answers: [String: [String: String]] = [
        "owner_type": ["owner_type": "natural"],
        "person": ["F60000000228": "Tibor", "F60000000227": "Pick", "gender": "m"],
        "birth": ["G60000083": "1965-10-12", "F00000000067": "Santiago", "F60000000235": "Chile"],
        "nationality": ["F60000000236": "332", "residence_title_needed": "true"],
        "residence_title": ["title_authority": "Stadt Cottbus", "title_issued": "2002-01-02"],
        "home": ["F60000000243": "Ewald-Hase-Str.", "F60000000244": "4", "F60000000246": "03044", "F60000000247": "Cottbus"],
        "site": ["F60000000243": "Spremberger Str.", "F60000000244": "90", "F60000000246": "03046", "F60000000247": "Cottbus",
                 "F60000000240": "0355 141455"],
        "establishment": ["establishment": "main"],
        "activity": ["activity": "Friseur\nVerkauf von Haarpflegeprodukten\nMake-up-Beratung & <Typberatung>", "business_type": "craft"],
        "start": ["start_date": "2016-08-01", "secondary": "false", "employees_full": "0", "employees_part": "2"],
        "reason": ["reason": "new"],
        "permits": ["permit": "none", "craft": "licensed", "craft_card_date": "2012-03-01"],
        "contact": ["F60000000242": "tibor.pick@example.org"],
    ]

    @Test("the message has the sample's root, namespace, element paths and order (checked by Python's ElementTree)")
    func matchesSample() throws {
        let xml = try XGewerbeanzeige.anmeldung(answers: Self.answers, caseNumber: "7K4M-9XQ2-RB", submittedAt: Date(timeIntervalSince1970: 1_700_000_000),
                                                authority: Self.authority, test: true)
        #expect(xml.contains("<xga:abh.gewerbemeldung.0500 xmlns:xga=\"http://www.xgewerbeanzeige.de/spezifikation/2.2\""))
        #expect(xml.contains("<code>14627140</code>"), "AGS from the ARS")
        #expect(xml.contains("<xga:geburtsdatum>12101965</xga:geburtsdatum>"), "birth dates as DDMMYYYY")
        #expect(xml.contains("<xga:taetigkeitenZusammengefasst>Verkauf von Haarpflegeprodukten|Make-up-Beratung &amp; &lt;Typberatung&gt;</xga:taetigkeitenZusammengefasst>"))
        #expect(xml.contains("<xga:rechtsformSchluessel>\n") || xml.contains("<code>180</code>"))
        try PythonChecker.check(xml)
    }

    @Test("codes that are not public are refused, not guessed")
    func refusals() {
        var takeover = Self.answers
        takeover["reason"] = ["reason": "takeover"]
        #expect(throws: XGewerbeanzeige.Unavailable.unknownCode("Anmeldung reason takeover")) {
            try XGewerbeanzeige.anmeldung(answers: takeover, caseNumber: "X", submittedAt: Date(), authority: Self.authority)
        }
        var foreign = Self.answers
        foreign["owner_type"] = ["owner_type": "legal_entity"]
        foreign["company"] = ["company_name": "Pick Ltd.", "legal_form_entity": "foreign", "registered": "false"]
        #expect(throws: XGewerbeanzeige.Unavailable.unknownCode("legal form foreign")) {
            try XGewerbeanzeige.anmeldung(answers: foreign, caseNumber: "X", submittedAt: Date(), authority: Self.authority)
        }
        #expect(XGewerbeanzeige.Authority(name: "", ars: "12345", office: "", email: "").ags == nil)
        #expect(XGewerbeanzeige.birthDate("1990-03-12") == "12031990" && XGewerbeanzeige.birthDate("12.03.1990") == nil)
    }

    @Test("a registered GmbH with two managing directors and a branch uses the register and branch elements")
    func company() throws {
        var answers = Self.answers
        answers["owner_type"] = ["owner_type": "legal_entity"]
        answers["company"] = ["company_name": "Pick Salons GmbH", "legal_form_entity": "gmbh", "representative_count": "2", "registered": "true"]
        answers["register"] = ["register_type": "hrb", "register_court": "Amtsgericht Cottbus", "register_number": "HRB 4711"]
        answers["further_representatives"] = ["#entries": "1", "F60000000228[1]": "Ana", "F60000000227[1]": "Pick", "G60000083[1]": "1970-01-02",
                                              "F60000000236[1]": "000", "F60000000243[1]": "Weg", "F60000000244[1]": "1", "F60000000246[1]": "03044",
                                              "F60000000247[1]": "Cottbus"]
        answers["establishment"] = ["establishment": "branch"]
        answers["head_office"] = ["F60000000243": "Hauptstr.", "F60000000244": "1", "F60000000246": "10115", "F60000000247": "Berlin"]
        let xml = try XGewerbeanzeige.anmeldung(answers: answers, caseNumber: "X", submittedAt: Date(), authority: Self.authority)
        for expected in ["<xga:eingetragenerName>Pick Salons GmbH</xga:eingetragenerName>", "<xga:eintragungOrt>Cottbus</xga:eintragungOrt>",
                         "<code>B</code>", "<code>350</code>", "<xga:hauptniederlassung>", "<xga:familienname>Pick</xga:familienname>",
                         "<xga:vorname>Ana</xga:vorname>", "<xga:geburtsdatum>02011970</xga:geburtsdatum>"] {
            #expect(xml.contains(expected), "\(expected)")
        }
        #expect(xml.components(separatedBy: "<xga:beteiligtePerson>").count - 1 == 2)
        try PythonChecker.check(xml)
    }
}

/// The independent checker script in e2e/ (Python's ElementTree against the KoSIT sample).
enum PythonChecker {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("e2e/check_xgewerbeanzeige.py").path

    /// Runs the checker on `xml`; records its report as the issue when it finds something.
    static func check(_ xml: String) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("xga-\(UUID().uuidString).xml")
        try xml.write(to: file, atomically: true, encoding: .utf8)
        let checker = Process()
        checker.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        checker.arguments = ["python3", path, file.path]
        let output = Pipe()
        checker.standardOutput = output
        try checker.run()
        checker.waitUntilExit()
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(checker.terminationStatus == 0 && report.contains("OK"), "\(report)")
    }
}
