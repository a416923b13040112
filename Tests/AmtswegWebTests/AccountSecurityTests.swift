import AmtswegCore
import AmtswegStorage
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import AmtswegWeb

@Suite("Servicekonto over HTTP: password rules, enumeration, fixation, CSRF, throttling, ids of others")
struct AccountSecurityTests {
    static let password = "Mein Hund heißt Bello 7"

    /// The newest queued mail's token for `email` (the outbox of a fresh test database).
    static func token(_ portal: Portal, for email: String) async throws -> String {
        let mails = try await portal.outbox.claimDue(limit: 200, leaseMillis: 1)
        return try #require(mails.last { $0.recipient == email }?.values["token"])
    }

    /// Registers and confirms `email`, returning a browser signed in to it.
    static func signedIn(_ client: any TestClientProtocol, _ portal: Portal, email: String) async throws -> Browser {
        var browser = Browser(client)
        try await browser.get("/de/konto/registrieren")
        #expect(try await browser.post("/de/konto/registrieren", ["email": email, "password": password]).location == "/de/konto/registriert")
        let token = try await token(portal, for: email)
        try await browser.get("/de/konto/bestaetigen?token=\(token)")
        #expect(try await browser.post("/de/konto/bestaetigen", ["token": token]).text.contains("E-Mail-Adresse bestätigt"))
        try await browser.get("/de/konto/anmelden")
        let login = try await browser.post("/de/konto/anmelden", ["email": email, "password": password])
        #expect(login.status == .seeOther && login.location == "/de/konto")
        return browser
    }

    @Test("password rules: length, common passwords, the address itself; long passwords count in full; NFC and NFD are one password")
    func passwordRules() async {
        let policy = PasswordPolicy(blockedList: "passwort1\nsommer2026\nhallo123\n", cost: 4)
        #expect(policy.problem("kurz", email: "a@b.de") == "account.passwordTooShort")
        #expect(policy.problem("Passwort1", email: "a@b.de") == "account.passwordCommon")
        #expect(policy.problem("aaaaaaaaaa", email: "a@b.de") == "account.passwordCommon")
        #expect(policy.problem("anna.schmidt2026", email: "anna.schmidt@example.org") == "account.passwordContainsEmail")
        #expect(policy.problem(String(repeating: "x", count: 257), email: "a@b.de") == "account.passwordTooLong")
        #expect(policy.problem(Self.password, email: "anna@example.org") == nil)
        let long = String(repeating: "Ein langer Satz als Passwort. ", count: 4)
        let hash = await policy.hash(long)
        #expect(hash.hasPrefix("pbc1$$2b$04$"))
        #expect(await policy.verify(long, against: hash))
        #expect(await !policy.verify(String(long.prefix(80)), against: hash))
        let composed = await policy.hash("Grüße aus Köln")
        #expect(await policy.verify("Gru\u{0308}ße aus Ko\u{0308}ln", against: composed))
        #expect(await !policy.verify("anything", against: nil))
        // The shipped list is loaded and used.
        let (portal, database) = try! await WebHarness.portal()
        #expect(portal.passwords.problem("sommer2026", email: "a@b.de") == "account.passwordCommon")
        #expect(portal.passwords.problem("Passwort123", email: "a@b.de") == "account.passwordCommon")
        await database.shutdown()
    }

    @Test("registration, login and reset answer the same for known and unknown addresses")
    func noEnumeration() async throws {
        try await WebHarness.run { client, portal in
            _ = try await Self.signedIn(client, portal, email: "known@example.org")
            var browser = Browser(client)
            try await browser.get("/de/konto/registrieren")
            let existing = try await browser.post("/de/konto/registrieren", ["email": "known@example.org", "password": "Ein ganz anderes Passwort"])
            let fresh = try await browser.post("/de/konto/registrieren", ["email": "fresh@example.org", "password": "Ein ganz anderes Passwort"])
            #expect(existing.status == fresh.status && existing.location == fresh.location)
            let mails = try await portal.outbox.claimDue(limit: 200, leaseMillis: 1)
            #expect(mails.filter { $0.recipient == "known@example.org" }.map(\.template).last == .alreadyRegistered)
            #expect(mails.filter { $0.recipient == "fresh@example.org" }.map(\.template) == [.verifyEmail])
            try await browser.get("/de/konto/anmelden")
            let unknown = try await browser.post("/de/konto/anmelden", ["email": "nobody@example.org", "password": Self.password])
            let wrong = try await browser.post("/de/konto/anmelden", ["email": "known@example.org", "password": "falsches Passwort"])
            #expect(unknown.status == .unprocessableContent && wrong.status == .unprocessableContent)
            let message = "E-Mail-Adresse oder Passwort ist falsch."
            #expect(unknown.text.contains(message) && wrong.text.contains(message))
            try await browser.get("/de/konto/passwort-vergessen")
            let resetKnown = try await browser.post("/de/konto/passwort-vergessen", ["email": "known@example.org"])
            let resetUnknown = try await browser.post("/de/konto/passwort-vergessen", ["email": "nobody@example.org"])
            func withoutToken(_ text: String) -> String { text.replacingOccurrences(of: #"value="[A-Za-z0-9_-]{43}""#, with: "", options: .regularExpression) }
            #expect(resetKnown.status == resetUnknown.status && withoutToken(resetKnown.text) == withoutToken(resetUnknown.text))
        }
    }

    @Test("login gives a new session id with safe cookie flags; the old id is dead; CSRF and cross-site posts are refused")
    func fixationAndCSRF() async throws {
        try await WebHarness.run { client, portal in
            var browser = Browser(client)
            try await browser.get("/de/konto/registrieren")
            try await browser.post("/de/konto/registrieren", ["email": "fix@example.org", "password": Self.password])
            let token = try await Self.token(portal, for: "fix@example.org")
            try await browser.get("/de/konto/bestaetigen?token=\(token)")
            try await browser.post("/de/konto/bestaetigen", ["token": token])
            let before = try #require(browser.cookie)
            try await browser.get("/de/konto/anmelden")
            #expect(try await browser.post("/de/konto/anmelden", ["email": "fix@example.org", "password": Self.password], csrf: "wrong").status == .forbidden)
            let crossSite = try await browser.post("/de/konto/anmelden", ["email": "fix@example.org", "password": Self.password],
                                                   extraHeaders: [HTTPField.Name("Sec-Fetch-Site")!: "cross-site"])
            #expect(crossSite.status == .forbidden)
            let login = try await browser.post("/de/konto/anmelden", ["email": "fix@example.org", "password": Self.password])
            let setCookie = try #require(login.headers[.setCookie])
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Lax") && setCookie.contains("Path=/"))
            let after = try #require(browser.cookie)
            #expect(after != before)
            #expect(try await browser.get("/de/konto").status == .ok)
            var attacker = Browser(client)
            attacker.cookie = before
            let stale = try await attacker.get("/de/konto")
            #expect(stale.status == .seeOther && stale.location == "/de/konto/anmelden")
            // The confirmation link works once.
            var again = Browser(client)
            try await again.get("/de/konto/bestaetigen?token=\(token)")
            #expect(again.lastBody.contains("Dieser Link gilt nicht mehr"))
        }
    }

    @Test("ten failed logins lock the address for a while, even for the right password")
    func throttling() async throws {
        try await WebHarness.run { client, portal in
            _ = try await Self.signedIn(client, portal, email: "target@example.org")
            var browser = Browser(client)
            try await browser.get("/de/konto/anmelden")
            for _ in 0..<10 {
                #expect(try await browser.post("/de/konto/anmelden", ["email": "target@example.org", "password": "geraten \(UUID())"]).status == .unprocessableContent)
            }
            let locked = try await browser.post("/de/konto/anmelden", ["email": "target@example.org", "password": Self.password])
            #expect(locked.status == .unprocessableContent && locked.text.contains("Zu viele Versuche"))
        }
    }

    @Test("another citizen's application, receipt or status page is a 404; unconfirmed addresses cannot log in")
    func othersIds() async throws {
        try await WebHarness.run { client, portal in
            var anna = try await Self.signedIn(client, portal, email: "anna@example.org")
            let draftPath = try await CitizenFlowTests.fillAssistant(&anna)
            let submit = try await anna.post("\(draftPath)/absenden", [:])
            let applicationId = String(submit.location.split(separator: "/").dropLast().last!)
            let postfach = try await anna.get("/de/konto")
            #expect(postfach.text.contains("/de/konto/antraege/\(applicationId)"))
            #expect(try await anna.get("/de/konto/antraege/\(applicationId)").status == .ok)
            var bert = try await Self.signedIn(client, portal, email: "bert@example.org")
            #expect(try await bert.get("/de/konto/antraege/\(applicationId)").status == .notFound)
            #expect(try await bert.get("/de/konto/antraege/00000000-0000-0000-0000-000000000000").status == .notFound)
            #expect(try await bert.get("/de/vorgang/\(applicationId)/bestaetigung.pdf").status == .notFound)
            #expect(try await bert.get("/de/status/\(applicationId)").status == .notFound)
            #expect(try await bert.get("/de/konto").text.contains("no-applications"))
            // Registered but not confirmed: the right password leads to the confirmation hint, not into the account.
            var carl = Browser(client)
            try await carl.get("/de/konto/registrieren")
            try await carl.post("/de/konto/registrieren", ["email": "carl@example.org", "password": Self.password])
            try await carl.get("/de/konto/anmelden")
            let unconfirmed = try await carl.post("/de/konto/anmelden", ["email": "carl@example.org", "password": Self.password])
            #expect(unconfirmed.status == .forbidden && unconfirmed.text.contains("id=\"resend\""))
            #expect(try await carl.get("/de/konto").status == .seeOther)
        }
    }

    @Test("logging out on all devices ends every session of the account")
    func logoutEverywhere() async throws {
        try await WebHarness.run { client, portal in
            var laptop = try await Self.signedIn(client, portal, email: "two@example.org")
            var phone = Browser(client)
            try await phone.get("/de/konto/anmelden")
            #expect(try await phone.post("/de/konto/anmelden", ["email": "two@example.org", "password": Self.password]).status == .seeOther)
            #expect(try await phone.get("/de/konto").status == .ok)
            try await laptop.get("/de/konto/einstellungen")
            let out = try await laptop.post("/de/konto/ueberall-abmelden", [:])
            #expect(out.location == "/de/konto/abgemeldet")
            #expect(try await phone.get("/de/konto").status == .seeOther)
        }
    }
}
