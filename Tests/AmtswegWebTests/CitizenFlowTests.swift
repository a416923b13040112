import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import AmtswegWeb

@Suite("Citizen flow over HTTP")
struct CitizenFlowTests {
    /// Fills every page of the birth-certificate assistant as a sibling and returns the draft path prefix.
    static func fillAssistant(_ browser: inout Browser) async throws -> String {
        try await browser.get("/de/leistungen/99027002012000")
        let start = try await browser.post("/de/leistungen/99027002012000/start", [:])
        #expect(start.status == .seeOther)
        let draftPath = String(start.location.dropLast("/relation".count))
        #expect(try await browser.post(start.location, ["relation": "sibling"]).location == "\(draftPath)/interest")
        try await browser.get("\(draftPath)/interest")
        let upload = try await browser.postMultipart("\(draftPath)/interest", fields: ["interest_reason": "Erbscheinsverfahren beim Amtsgericht"],
                                                     file: ("interest_proof", "nachweis.pdf", Data("%PDF-1.4\n%%EOF\n".utf8)))
        #expect(upload.location == "\(draftPath)/applicant")
        let pages: [(String, [String: String])] = [
            ("applicant", ["F60000000228": "Max", "F60000000227": "Mustermann"]),
            ("person", ["F60000000228": "Erika", "F60000000227": "Mustermann", "F60000000230": "Gabler"]),
            ("birth", ["G60000083-day": "12", "G60000083-month": "3", "G60000083-year": "1990", "F00000000067": "Meißen"]),
            ("document", ["document_kind": "registerausdruck"]),
            ("copies", ["copies": "2"]),
            ("delivery", ["delivery_method": "post"]),
            ("address", ["F60000000243": "Hauptstraße", "F60000000244": "1", "F60000000246": "01662", "F60000000247": "Meißen"]),
            ("contact", ["F60000000242": "erika@example.org"]),
        ]
        for (page, fields) in pages {
            let response = try await browser.post("\(draftPath)/\(page)", fields)
            #expect(response.status == .seeOther, "page \(page) was refused: \(response.text.prefix(200))")
        }
        return draftPath
    }

    @Test("a citizen applies without an account, gets Vorgangsnummer, fee and PDF, and checks the status later")
    func fullFlow() async throws {
        try await WebHarness.run { client, portal in
            var browser = Browser(client)
            let draftPath = try await Self.fillAssistant(&browser)
            let check = try await browser.get("\(draftPath)/pruefen")
            #expect(check.status == .ok)
            #expect(check.text.contains("nachweis.pdf") && check.text.contains("Beglaubigter Ausdruck") && check.text.contains("12. März 1990"))
            #expect(check.text.contains("18,00"))
            let submit = try await browser.post("\(draftPath)/absenden", [:])
            #expect(submit.status == .seeOther && submit.location.hasSuffix("/bestaetigung"))
            let confirmation = try await browser.get(submit.location)
            let caseNumber = try #require(Browser.firstMatch(#"id="case-number"[^>]*>([^<]+)<"#, in: confirmation.text))
            let accessCode = try #require(Browser.firstMatch(#"id="access-code"[^>]*>([^<]+)<"#, in: confirmation.text))
            #expect(CaseNumber.normalise(caseNumber, length: 10) == caseNumber)
            #expect(confirmation.text.contains("18,00"))
            let pdf = try await browser.get(submit.location + ".pdf")
            #expect(pdf.headers[.contentType] == "application/pdf")
            #expect(pdf.text.hasPrefix("%PDF-1.7") && pdf.text.contains(caseNumber))
            // Submitting the same draft again finds nothing to submit.
            #expect(try await browser.post("\(draftPath)/absenden", [:]).status == .notFound)

            var other = Browser(client)
            try await other.get("/de/status")
            let wrong = try await other.post("/de/status", ["case_number": caseNumber, "access_code": "AAAA-AAAA"])
            #expect(wrong.status == .unprocessableContent && wrong.text.contains("passen nicht zusammen"))
            let found = try await other.post("/de/status", ["case_number": caseNumber.lowercased(), "access_code": accessCode])
            #expect(found.status == .seeOther)
            let status = try await other.get(found.location)
            #expect(status.text.contains("Eingegangen") && status.text.contains(#"<ol id="timeline""#))
            // Without the grant, another browser gets 404 for the same status page and receipt.
            var stranger = Browser(client)
            #expect(try await stranger.get(found.location).status == .notFound)
            #expect(try await stranger.get(submit.location + ".pdf").status == .notFound)
            _ = portal
        }
    }

    @Test("each bad input gets its own localized message in an error summary linked to the field, and nothing is saved")
    func badInput() async throws {
        try await WebHarness.run { client, portal in
            var browser = Browser(client)
            let draftPath = try await browser.startBirthCertificate(locale: "en")
            let cases: [(String, [String: String], String, String)] = [
                ("birth", ["G60000083-day": "31", "G60000083-month": "2", "G60000083-year": "1990", "F00000000067": "X"], "must be a real date", "#G60000083-day"),
                ("birth", ["G60000083-day": "1", "G60000083-month": "1", "G60000083-year": "2999", "F00000000067": "X"], "must not be in the future", "#G60000083-day"),
                ("person", ["F60000000228": "", "F60000000227": "Mustermann"], "Enter “Given names”", "#F60000000228"),
                ("copies", ["copies": "0"], "between 1 and 10", "#copies"),
                ("copies", ["copies": "100"], "between 1 and 10", "#copies"),
                ("contact", ["F60000000242": "erika@"], "correct format", "#F60000000242"),
                ("address", ["F60000000243": "A", "F60000000244": "1", "F60000000246": "1662", "F60000000247": "B"], "exactly 5 digits", "#F60000000246"),
            ]
            let relation = try await browser.get("\(draftPath)/relation")
            #expect(relation.text.components(separatedBy: "Select your relationship").count == 2, "the field hint appears once, not under each option")
            #expect(relation.text.contains(#"aria-describedby="relation-sibling-hint""#))
            _ = try await browser.post("\(draftPath)/relation", ["relation": "self"])
            _ = try await browser.post("\(draftPath)/delivery", ["delivery_method": "post"])
            for (page, fields, message, anchor) in cases {
                let response = try await browser.post("\(draftPath)/\(page)", fields)
                #expect(response.status == .unprocessableContent, "\(page)")
                #expect(response.text.contains(#"id="error-summary""#) && response.text.contains(message), "\(page): \(message)")
                #expect(response.text.contains("href=\"\(anchor)\""), "\(page) links \(anchor)")
                #expect(response.text.contains("class=\"field-error\""))
            }
            let german = try await browser.post(draftPath.replacingOccurrences(of: "/en/", with: "/de/") + "/copies", ["copies": "0"])
            #expect(german.text.contains("muss zwischen 1 und 10 liegen") && german.text.contains(#"<html lang="de">"#))
            // Nothing of the refused pages was saved.
            let draftId = String(draftPath.split(separator: "/").last!)
            let rows = try await portal.database.read { sql in
                try await sql.raw("SELECT answers FROM drafts WHERE id = \(bind: draftId)").all()
            }
            let answers = try rows.first!.decode(column: "answers", as: String.self)
            #expect(!answers.contains("birth") && !answers.contains("copies") && answers.contains("relation"))
        }
    }

    @Test("a wrong upload type is refused by content; an oversized body gets 413")
    func uploads() async throws {
        try await WebHarness.run { client, _ in
            var browser = Browser(client)
            let draftPath = try await browser.startBirthCertificate(locale: "de")
            _ = try await browser.post("\(draftPath)/relation", ["relation": "other"])
            let exe = try await browser.postMultipart("\(draftPath)/interest", fields: ["interest_reason": "Erbscheinsverfahren"],
                                                      file: ("interest_proof", "nachweis.pdf", Data("MZ\u{0}\u{0}binary".utf8)))
            #expect(exe.status == .unprocessableContent && exe.text.contains("PDF-, PNG- oder JPEG-Datei"))
            let huge = try await browser.postMultipart("\(draftPath)/interest", fields: ["interest_reason": "Erbscheinsverfahren"],
                                                       file: ("interest_proof", "big.pdf", Data("%PDF".utf8) + Data(count: 7 * 1024 * 1024)))
            #expect(huge.status == .contentTooLarge && huge.text.contains("5 MB"))
        }
    }

    @Test("pages, 404 and language switch are localized, with security headers and CSRF")
    func pagesAndHeaders() async throws {
        try await WebHarness.run { client, _ in
            var browser = Browser(client)
            let start = try await browser.get("/")
            #expect(start.status == .ok && start.text.contains("Querschnitt Bürger") && start.text.contains(#"hreflang="en""#))
            #expect(start.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
            #expect(start.headers[.contentSecurityPolicy]?.contains("unsafe-inline") == false)
            #expect(start.headers[.xContentTypeOptions] == "nosniff")
            let english = try await browser.get("/en/leistungen/99027002012000")
            #expect(english.text.contains(#"<html lang="en">"#) && english.text.contains(#"href="/de/leistungen/99027002012000" hreflang="de""#))
            #expect(english.text.contains("€12.00"))
            let cookie = try #require(english.headers[.setCookie])
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && !cookie.contains("Secure"))
            let missing = try await browser.get("/en/does-not-exist")
            #expect(missing.status == .notFound && missing.text.contains("Page not found"))
            #expect(try await browser.get("/de/nichts").text.contains("Seite nicht gefunden"))
            let forged = try await browser.post("/de/leistungen/99027002012000/start", [:], csrf: "forged")
            #expect(forged.status == .forbidden)
            let crossSite = try await browser.post("/de/leistungen/99027002012000/start", [:], extraHeaders: [.origin: "https://evil.example"])
            #expect(crossSite.status == .forbidden)
            #expect(try await browser.get("/de/suche?q=geburtsurkunde").text.contains("Geburtsurkunde beantragen"))
            #expect(try await browser.get("/healthz").status == .ok)
            #expect(try await browser.get("/readyz").status == .ok)
            #expect(try await browser.get("/de/antrag/00000000-0000-0000-0000-000000000000/relation").status == .notFound)
        }
    }
}

@Suite("Save and resume")
struct SaveAndResumeTests {
    @Test("a citizen saves, gets a secret link, and continues in another browser with every answer kept")
    func saveAndResume() async throws {
        try await WebHarness.run { client, portal in
            var browser = Browser(client)
            let draftPath = try await browser.startBirthCertificate(locale: "de")
            _ = try await browser.post("\(draftPath)/relation", ["relation": "self"])
            let saved = try await browser.post("\(draftPath)/person", ["F60000000228": "Erika", "F60000000227": "Mustermann", "_action": "save"])
            #expect(saved.status == .ok && saved.text.contains("Ihre Angaben sind gespeichert"))
            let link = try #require(Browser.firstMatch(#"value="(http://[^"]+/de/fortsetzen/[^"]+)""#, in: saved.text))
            let path = String(link[link.range(of: "/de/fortsetzen/")!.lowerBound...])
            // The old browser loses the draft to whoever opens the link; a new browser continues it.
            var other = Browser(client)
            let resumed = try await other.get(path)
            #expect(resumed.status == .seeOther && resumed.location == "\(draftPath)/birth")
            let person = try await other.get("\(draftPath)/person")
            #expect(person.text.contains(#"value="Erika""#))
            #expect(try await browser.get("\(draftPath)/person").status == .notFound)
            // The link works until it expires; afterwards it is refused and housekeeping deletes the draft.
            let draftId = String(draftPath.split(separator: "/").last!)
            try await portal.database.write { sql in
                try await sql.raw("UPDATE drafts SET resume_expires_at = 1 WHERE id = \(bind: draftId)").run()
            }
            var third = Browser(client)
            let expired = try await third.get(path)
            #expect(expired.status == .notFound && expired.text.contains("abgelaufen"))
            #expect(try await portal.drafts.purgeOrphaned(untouchedSince: 0) >= 1)
            #expect(try await other.get("\(draftPath)/person").status == .notFound)
            #expect(try await third.get("/de/fortsetzen/short").status == .notFound)
        }
    }
}

@Suite("Drafts started on an older assistant version")
struct DraftVersionTests {
    @Test("a draft from an older version is carried to the current one and the citizen is told")
    func carriedOver() async throws {
        try await WebHarness.run { client, portal in
            var browser = Browser(client)
            let draftPath = try await browser.startBirthCertificate(locale: "de")
            _ = try await browser.post("\(draftPath)/relation", ["relation": "self"])
            let draftId = String(draftPath.split(separator: "/").last!)
            try await portal.database.write { sql in
                try await sql.raw("UPDATE drafts SET assistant_version = '0.9.0' WHERE id = \(bind: draftId)").run()
            }
            let redirected = try await browser.get("\(draftPath)/relation")
            #expect(redirected.status == .seeOther && redirected.location == "\(draftPath)/person?geaendert=1")
            let page = try await browser.get(redirected.location)
            #expect(page.text.contains("Dieser Antrag wurde geändert"))
            let stored = try await portal.drafts.find(id: draftId, sessionHash: SecureToken.hash(String(browser.cookie!.split(separator: "=")[1])))
            #expect(stored?.assistantVersion == "1.0.0" && stored?.answers.value(page: "relation", field: "relation") == "self")
        }
    }
}
