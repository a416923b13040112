import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import AmtswegWeb

@Suite("Trust levels and OpenID Connect against a real provider on loopback", .serialized)
struct IdentityTests {
    static let fuehrungszeugnis = "99049001001000"
    static let meldebescheinigung = "99115003012000"

    /// Runs `body` with a started provider and a portal configured for it.
    static func withProvider(_ body: @escaping @Sendable (any TestClientProtocol, Portal, OIDCProviderProcess) async throws -> Void) async throws {
        guard let provider = try OIDCProviderProcess.start() else { return }
        do {
            let settings = try OIDCSettings(issuer: provider.issuer, clientId: "amtsweg", clientSecret: "geheim", displayName: "Test-BundID",
                                            redirectURI: OIDCProviderProcess.redirectURI)
            try await WebHarness.run(oidc: settings) { client, portal in try await body(client, portal, provider) }
        } catch {
            await provider.stop()
            throw error
        }
        await provider.stop()
    }

    /// Follows a redirect to the provider, logs in automatically as `hint`, and delivers the callback to the portal.
    static func roundTrip(_ browser: inout Browser, providerURL: String, provider: OIDCProviderProcess, hint: String) async throws -> TestResponse {
        #expect(providerURL.hasPrefix(provider.issuer + "/authorize?"))
        let back = try await provider.authorize(providerURL, loginHint: hint)
        #expect("\(back.scheme ?? "")://\(back.host ?? "")\(back.path)" == OIDCProviderProcess.redirectURI)
        return try await browser.get("/oidc/callback?\(back.percentEncodedQuery ?? "")")
    }

    @Test("the authorization request carries PKCE S256, state, nonce and the requested acr; linking records the level")
    func link() async throws {
        try await Self.withProvider { client, portal, provider in
            var anna = try await AccountSecurityTests.signedIn(client, portal, email: "anna@example.org")
            let page = try await anna.get("/de/konto/identitaet")
            #expect(page.text.contains("noch nicht mit Test-BundID verknüpft"))
            let start = try await anna.post("/de/konto/identitaet/verknuepfen", [:])
            let url = try #require(URLComponents(string: start.location))
            let query = Dictionary(uniqueKeysWithValues: (url.queryItems ?? []).map { ($0.name, $0.value ?? "") })
            #expect(query["code_challenge_method"] == "S256" && query["code_challenge"]?.count == 43)
            #expect(query["state"]?.count == 43 && query["nonce"]?.count == 43 && query["redirect_uri"] == OIDCProviderProcess.redirectURI)
            let before = anna.cookie
            let done = try await Self.roundTrip(&anna, providerURL: start.location, provider: provider, hint: "anna:STORK-QAA-Level-3")
            #expect(done.status == .seeOther && done.location == "/de/konto/identitaet")
            #expect(anna.cookie != before, "the session id changes when an identity is accepted")
            let linked = try await anna.get("/de/konto/identitaet")
            #expect(linked.text.contains("verknüpft (höchstes nachgewiesenes Vertrauensniveau: substanziell"))
            let account = try #require(try await portal.accounts.account(email: "anna@example.org"))
            let identity = try #require(try await portal.identities.identity(accountId: account.id))
            #expect(identity.subject == "test-anna" && identity.issuer == provider.issuer && identity.level == .substanziell)
            // The same identity cannot be linked to a second account.
            var bert = try await AccountSecurityTests.signedIn(client, portal, email: "bert@example.org")
            try await bert.get("/de/konto/identitaet")
            let other = try await bert.post("/de/konto/identitaet/verknuepfen", [:])
            let refused = try await Self.roundTrip(&bert, providerURL: other.location, provider: provider, hint: "anna:STORK-QAA-Level-3")
            #expect(refused.status == .conflict && refused.text.contains("schon mit einem anderen Servicekonto"))
        }
    }

    @Test("a service that needs a level sends the citizen to sign in and step up; too low a level is refused; then the application starts")
    func stepUp() async throws {
        try await Self.withProvider { client, portal, provider in
            var anonymous = Browser(client)
            let service = try await anonymous.get("/de/leistungen/\(Self.fuehrungszeugnis)")
            #expect(service.text.contains("id=\"trust-note\"") && service.text.contains("Vertrauensniveau „hoch (Online-Ausweis)“"))
            let needsLogin = try await anonymous.post("/de/leistungen/\(Self.fuehrungszeugnis)/start", [:])
            #expect(needsLogin.location == "/de/konto/anmelden?weiter=/de/leistungen/\(Self.fuehrungszeugnis)")

            var anna = try await AccountSecurityTests.signedIn(client, portal, email: "anna@example.org")
            try await anna.get("/de/leistungen/\(Self.fuehrungszeugnis)")
            let needsLevel = try await anna.post("/de/leistungen/\(Self.fuehrungszeugnis)/start", [:])
            #expect(needsLevel.location == "/de/konto/vertrauensniveau?stufe=hoch&weiter=/de/leistungen/\(Self.fuehrungszeugnis)")
            let explain = try await anna.get(needsLevel.location)
            #expect(explain.text.contains("Online-Ausweis") && explain.text.contains("id=\"step-up\""))
            let low = try await anna.post("/de/konto/vertrauensniveau", ["stufe": "hoch", "weiter": "/de/leistungen/\(Self.fuehrungszeugnis)"])
            #expect(low.location.contains("acr_values=STORK-QAA-Level-4"))
            let tooLow = try await Self.roundTrip(&anna, providerURL: low.location, provider: provider, hint: "anna:STORK-QAA-Level-3")
            #expect(tooLow.status == .forbidden && tooLow.text.contains("Vertrauensniveau zu niedrig"))
            try await anna.get(needsLevel.location)
            let high = try await anna.post("/de/konto/vertrauensniveau", ["stufe": "hoch", "weiter": "/de/leistungen/\(Self.fuehrungszeugnis)"])
            let ok = try await Self.roundTrip(&anna, providerURL: high.location, provider: provider, hint: "anna:STORK-QAA-Level-4")
            #expect(ok.status == .seeOther && ok.location == "/de/leistungen/\(Self.fuehrungszeugnis)")
            try await anna.get(ok.location)
            let started = try await anna.post("/de/leistungen/\(Self.fuehrungszeugnis)/start", [:])
            #expect(started.status == .seeOther && started.location.hasPrefix("/de/antrag/"))

            // A service that only needs an account: login with "weiter" leads back to it.
            var carl = Browser(client)
            try await carl.get("/de/leistungen/\(Self.meldebescheinigung)")
            let toLogin = try await carl.post("/de/leistungen/\(Self.meldebescheinigung)/start", [:])
            _ = try await AccountSecurityTests.signedIn(client, portal, email: "carl@example.org")
            let loginPage = try await carl.get(toLogin.location)
            #expect(loginPage.text.contains("name=\"weiter\" value=\"/de/leistungen/\(Self.meldebescheinigung)\""))
            let login = try await carl.post("/de/konto/anmelden", ["email": "carl@example.org", "password": AccountSecurityTests.password,
                                                                  "weiter": "/de/leistungen/\(Self.meldebescheinigung)"])
            #expect(login.location == "/de/leistungen/\(Self.meldebescheinigung)")
            try await carl.get(login.location)
            #expect(try await carl.post("/de/leistungen/\(Self.meldebescheinigung)/start", [:]).location.hasPrefix("/de/antrag/"))
            // "weiter" never leads off the site.
            #expect(IdentityRoutes.localPath("//evil.example/x") == nil && IdentityRoutes.localPath("https://evil.example") == nil)
            #expect(IdentityRoutes.localPath("/\t/evil.example") == nil && IdentityRoutes.localPath("/\\evil.example") == nil)
            #expect(IdentityRoutes.localPath("/de/leistungen/99115003012000") == "/de/leistungen/99115003012000")
        }
    }

    @Test("defective ID tokens, a replayed callback and a foreign state are refused and change nothing")
    func defects() async throws {
        try await Self.withProvider { client, portal, provider in
            var anna = try await AccountSecurityTests.signedIn(client, portal, email: "anna@example.org")
            for mode in ["wrong_key", "wrong_nonce", "wrong_aud", "expired", "wrong_iss"] {
                try await anna.get("/de/konto/identitaet")
                let start = try await anna.post("/de/konto/identitaet/verknuepfen", [:])
                try await provider.setMode(mode)
                let refused = try await Self.roundTrip(&anna, providerURL: start.location, provider: provider, hint: "anna:STORK-QAA-Level-4")
                #expect(refused.status == .badRequest && refused.text.contains("Nachweis nicht angenommen"), "\(mode)")
            }
            let account = try #require(try await portal.accounts.account(email: "anna@example.org"))
            #expect(try await portal.identities.identity(accountId: account.id) == nil)
            // A good answer, delivered twice: the second finds no pending request.
            try await anna.get("/de/konto/identitaet")
            let start = try await anna.post("/de/konto/identitaet/verknuepfen", [:])
            let back = try await provider.authorize(start.location, loginHint: "anna:STORK-QAA-Level-3")
            let first = try await anna.get("/oidc/callback?\(back.percentEncodedQuery ?? "")")
            #expect(first.status == .seeOther)
            #expect(try await anna.get("/oidc/callback?\(back.percentEncodedQuery ?? "")").status == .badRequest)
            // A state from another browser is not accepted.
            var mallory = try await AccountSecurityTests.signedIn(client, portal, email: "mallory@example.org")
            try await mallory.get("/de/konto/identitaet")
            _ = try await mallory.post("/de/konto/identitaet/verknuepfen", [:])
            let stolen = try await mallory.get("/oidc/callback?\(back.percentEncodedQuery ?? "")")
            #expect(stolen.status == .badRequest)
            let malloryAccount = try #require(try await portal.accounts.account(email: "mallory@example.org"))
            #expect(try await portal.identities.identity(accountId: malloryAccount.id) == nil)
        }
    }

    @Test("a linked identity signs in; an unknown one is told to link first")
    func providerLogin() async throws {
        try await Self.withProvider { client, portal, provider in
            var anna = try await AccountSecurityTests.signedIn(client, portal, email: "anna@example.org")
            try await anna.get("/de/konto/identitaet")
            let link = try await anna.post("/de/konto/identitaet/verknuepfen", [:])
            _ = try await Self.roundTrip(&anna, providerURL: link.location, provider: provider, hint: "anna:STORK-QAA-Level-4")
            try await anna.get("/de/konto")
            try await anna.post("/de/konto/abmelden", [:])
            var browser = Browser(client)
            let page = try await browser.get("/de/konto/anmelden")
            #expect(page.text.contains("id=\"provider-login\""))
            let start = try await browser.post("/de/konto/anmelden/extern", [:])
            let signedIn = try await Self.roundTrip(&browser, providerURL: start.location, provider: provider, hint: "anna:STORK-QAA-Level-4")
            #expect(signedIn.location == "/de/konto")
            #expect(try await browser.get("/de/konto").text.contains("anna@example.org"))
            var stranger = Browser(client)
            try await stranger.get("/de/konto/anmelden")
            let other = try await stranger.post("/de/konto/anmelden/extern", [:])
            let unknown = try await Self.roundTrip(&stranger, providerURL: other.location, provider: provider, hint: "fremd:STORK-QAA-Level-4")
            #expect(unknown.status == .notFound && unknown.text.contains("Kein Konto verknüpft"))
        }
    }
}
