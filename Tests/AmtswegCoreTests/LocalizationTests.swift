import Foundation
import Testing
@testable import AmtswegCore

@Suite("Catalogs and locale negotiation")
struct LocalizationTests {
    @Test("placeholders are filled and plurals chosen")
    func interpolation() {
        let catalog = MessageCatalog(locale: .de, messages: ["n.one": "{count} Leistung", "n.other": "{count} Leistungen", "hi": "Hallo {name}!"])
        let t = Translator(catalog: catalog)
        #expect(t("hi", ["name": "Erika"]) == "Hallo Erika!")
        #expect(t.plural("n", count: 1) == "1 Leistung")
        #expect(t.plural("n", count: 4) == "4 Leistungen")
        #expect(t("missing") == "missing")
    }

    @Test("missing keys fall back to German")
    func fallback() {
        let de = MessageCatalog(locale: .de, messages: ["a": "deutsch"])
        let en = MessageCatalog(locale: .en, messages: [:])
        #expect(Translator(catalog: en, fallback: de)("a") == "deutsch")
    }

    @Test("Accept-Language picks the best supported locale")
    func negotiate() {
        #expect(AppLocale.negotiate(acceptLanguage: "en-GB,en;q=0.9,de;q=0.8") == .en)
        #expect(AppLocale.negotiate(acceptLanguage: "fr-FR,de;q=0.5,en;q=0.4") == .de)
        #expect(AppLocale.negotiate(acceptLanguage: "fr") == .de)
        #expect(AppLocale.negotiate(acceptLanguage: nil) == .de)
    }

    @Test("shipped de and en catalogs have the same keys")
    func catalogsComplete() throws {
        let folder = Fixtures.root.appendingPathComponent("Sources/AmtswegWeb/Resources/i18n")
        let de = try MessageCatalog(locale: .de, json: Data(contentsOf: folder.appendingPathComponent("de.json")))
        let en = try MessageCatalog(locale: .en, json: Data(contentsOf: folder.appendingPathComponent("en.json")))
        #expect(Set(de.messages.keys) == Set(en.messages.keys))
        #expect(de.messages.count > 100)
    }

    @Test("the catalogue search finds the birth certificate, offered services first")
    func search() throws {
        let catalogue = try Fixtures.catalogue()
        let hits = catalogue.search("geburtsurkunde", preferred: ["99027002012000"])
        #expect(hits.first?.leikaKey == "99027002012000")
        #expect(catalogue.search("GEBURTSURKUNDE").count == hits.count)
        #expect(catalogue.search("").isEmpty)
        #expect(catalogue.lebenslage(ofLeistung: "99027002012000")?.name == "Querschnitt Bürger")
        #expect(catalogue.themenfelder.count == 14)
    }
}
