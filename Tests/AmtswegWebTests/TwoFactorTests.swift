import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird
import HummingbirdBcrypt
import HummingbirdTesting
import Testing
@testable import AmtswegWeb

@Suite("Second factor: TOTP (RFC 6238), recovery codes, required for case workers, optional for citizens")
struct TwoFactorTests {
    @Test("RFC 6238 test vectors (SHA-1, last six digits), base32 round trip, window and input forms")
    func vectors() throws {
        let totp = TOTP(secret: Data("12345678901234567890".utf8))
        let vectors: [(Int64, String)] = [(59, "287082"), (1_111_111_109, "081804"), (1_111_111_111, "050471"),
                                          (1_234_567_890, "005924"), (2_000_000_000, "279037"), (20_000_000_000, "353130")]
        for (time, code) in vectors {
            #expect(totp.code(step: time / 30) == code)
        }
        #expect(Base32.encode(Data("12345678901234567890".utf8)) == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
        #expect(Base32.decode("gezd gnbv gy3t qojq gezd gnbv gy3t qojq") == Data("12345678901234567890".utf8))
        #expect(Base32.decode("GEZ1") == nil)
        let at = Date(timeIntervalSince1970: 1_111_111_111)
        let step: Int64 = 1_111_111_111 / 30
        #expect(totp.matchingStep("050 471", at: at) == .some(step))
        #expect(totp.matchingStep(totp.code(step: step - 1), at: at) == .some(step - 1))
        #expect(totp.matchingStep(totp.code(step: 1_111_111_111 / 30 - 2), at: at) == nil)
        #expect(totp.matchingStep("05047", at: at) == nil && totp.matchingStep("abcdef", at: at) == nil)
        let uri = totp.provisioningURI(issuer: "Amtsweg", account: "anna@example.org")
        #expect(uri == "otpauth://totp/Amtsweg:anna%40example.org?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Amtsweg&algorithm=SHA1&digits=6&period=30")
        let codes = RecoveryCodes.generate()
        #expect(codes.count == 10 && Set(codes).count == 10 && codes.allSatisfy { $0.count == 11 && $0.contains("-") })
        #expect(RecoveryCodes.hash(codes[0].uppercased().replacingOccurrences(of: "-", with: " ")) == RecoveryCodes.hash(codes[0]))
        #expect(PendingLogin(kind: "staff", id: "x", at: Clock.millis() - 4 * 60_000).isLive())
        #expect(!PendingLogin(kind: "staff", id: "x", at: Clock.millis() - 6 * 60_000).isLive())
    }

    @Test("a case worker needs password and code; a code works once; a recovery code works once")
    func staffLogin() async throws {
        try await WebHarness.run { client, portal in
            // One code for both logins: computed again later it could belong to the next 30-second step on a slow machine.
            let code = Browser.demoTOTP()
            var first = Browser(client)
            try await first.staffLogin(code: code)
            #expect(try await first.get("/de/verwaltung").status == .ok)
            // The same code again, from another browser: refused (replay).
            var second = Browser(client)
            try await second.get("/de/verwaltung/anmelden")
            #expect(try await second.post("/de/verwaltung/anmelden", ["username": DemoData.username, "password": DemoData.password]).status == .seeOther)
            try await second.get("/de/verwaltung/anmelden/code")
            let replay = try await second.post("/de/verwaltung/anmelden/code", ["code": code])
            #expect(replay.status == .unprocessableContent && replay.text.contains("schon benutzt"))
            #expect(try await second.get("/de/verwaltung").location == "/de/verwaltung/anmelden")
            // A recovery code instead.
            let user = try #require(try await portal.staff.user(username: DemoData.username))
            try await portal.secondFactors.renewRecoveryCodes(.staff(user.id), codes: ["abcde-fghij"])
            #expect(try await second.post("/de/verwaltung/anmelden/code", ["code": "ABCDE FGHIJ"]).location == "/de/verwaltung")
            #expect(try await second.get("/de/verwaltung").status == .ok)
            #expect(try await portal.secondFactors.remainingRecoveryCodes(.staff(user.id)) == 0)
        }
    }

    @Test("a case worker without a second factor must set one up before reaching the inbox, and gets recovery codes")
    func staffEnrolment() async throws {
        try await WebHarness.run { client, portal in
            let tenant = try #require(portal.tenantsById.values.first)
            try await portal.staff.upsertUser(tenantId: tenant.id, username: "neu@musterstadt.example", passwordHash: Bcrypt.hash("Neu-im-Amt-2026", cost: 4),
                                              role: "case_worker", displayName: "Neu")
            var browser = Browser(client)
            try await browser.get("/de/verwaltung/anmelden")
            let login = try await browser.post("/de/verwaltung/anmelden", ["username": "neu@musterstadt.example", "password": "Neu-im-Amt-2026"])
            #expect(login.location == "/de/verwaltung/anmelden/einrichten")
            #expect(try await browser.get("/de/verwaltung").location == "/de/verwaltung/anmelden")
            // The code page is not a way around the set-up.
            try await browser.get("/de/verwaltung/anmelden/code")
            #expect(try await browser.post("/de/verwaltung/anmelden/code", ["code": "123456"]).status == .unprocessableContent)
            let setup = try await browser.get("/de/verwaltung/anmelden/einrichten")
            let grouped = try #require(Browser.firstMatch(#"id="totp-secret"[^>]*>([A-Z2-7 ]+)<"#, in: setup.text))
            #expect(setup.text.contains("otpauth://totp/"))
            let secret = try #require(Base32.decode(grouped))
            #expect(try await browser.post("/de/verwaltung/anmelden/einrichten", ["code": "000000"]).status == .unprocessableContent)
            let code = TOTP(secret: secret).code(step: TOTP.step(at: Date()))
            let done = try await browser.post("/de/verwaltung/anmelden/einrichten", ["code": code])
            #expect(done.status == .ok && done.text.contains("id=\"recovery-codes\""))
            let codes = done.text.components(separatedBy: "<li><code>").dropFirst().compactMap { $0.components(separatedBy: "</code>").first }
            #expect(codes.count == 10)
            #expect(try await browser.get("/de/verwaltung").status == .ok)
            let user = try #require(try await portal.staff.user(username: "neu@musterstadt.example"))
            #expect(try await portal.secondFactors.isEnrolled(.staff(user.id)))
            #expect(try await portal.secondFactors.remainingRecoveryCodes(.staff(user.id)) == 10)
        }
    }

    @Test("a citizen switches the second factor on, then needs a code at login, and can switch it off with the password")
    func citizenOptional() async throws {
        try await WebHarness.run { client, portal in
            var browser = try await AccountSecurityTests.signedIn(client, portal, email: "zwei@example.org")
            #expect(try await browser.get("/de/konto/einstellungen").text.contains("Ausgeschaltet"))
            let setup = try await browser.get("/de/konto/zwei-faktor")
            let shown = try #require(Browser.firstMatch(#"id="totp-secret"[^>]*>([A-Z2-7 ]+)<"#, in: setup.text))
            let secret = try #require(Base32.decode(shown))
            let totp = TOTP(secret: secret)
            let done = try await browser.post("/de/konto/zwei-faktor", ["code": totp.code(step: TOTP.step(at: Date()))])
            #expect(done.text.contains("id=\"recovery-codes\""))
            #expect(try await browser.get("/de/konto/einstellungen").text.contains("Eingeschaltet"))
            try await browser.post("/de/konto/abmelden", [:])
            var again = Browser(client)
            try await again.get("/de/konto/anmelden")
            let login = try await again.post("/de/konto/anmelden", ["email": "zwei@example.org", "password": AccountSecurityTests.password])
            #expect(login.location == "/de/konto/anmelden/code")
            #expect(try await again.get("/de/konto").location == "/de/konto/anmelden")
            try await again.get("/de/konto/anmelden/code")
            #expect(try await again.post("/de/konto/anmelden/code", ["code": totp.code(step: TOTP.step(at: Date()) + 1)]).location == "/de/konto")
            #expect(try await again.get("/de/konto").status == .ok)
            try await again.get("/de/konto/zwei-faktor")
            #expect(try await again.post("/de/konto/zwei-faktor/deaktivieren", ["current_password": "falsch"]).status == .unprocessableContent)
            #expect(try await again.post("/de/konto/zwei-faktor/deaktivieren", ["current_password": AccountSecurityTests.password]).location == "/de/konto/einstellungen")
            let account = try #require(try await portal.accounts.account(email: "zwei@example.org"))
            #expect(try await !portal.secondFactors.isEnrolled(.citizen(account.id)))
        }
    }
}
