import Testing
@testable import AmtswegCore

@Suite("DIN SPEC 91379 character sets")
struct DIN91379Tests {
    @Test("names of natural persons pass as datatype A", arguments: [
        "Müller-Lüdenscheidt", "Øresund", "Łódź", "O'Brien", "O\u{2019}Brien", "Gro\u{1E9E}", "José María", "Ðorđe",
    ])
    func acceptsNames(name: String) {
        #expect(DIN91379.isValid(name, as: .names))
        #expect(DIN91379.isValid(name, as: .otherNames))
        #expect(DIN91379.isValid(name))
    }

    @Test("precomposed and decomposed spellings of the same letter both pass")
    func canonicalEquivalence() {
        let precomposed = "Nguy\u{1EC5}n"
        let decomposed = "Nguye\u{0302}\u{0303}n"
        #expect(precomposed.unicodeScalars.count == 6 && decomposed.unicodeScalars.count == 8)
        #expect(DIN91379.isValid(precomposed, as: .names))
        #expect(DIN91379.isValid(decomposed, as: .names))
        #expect(DIN91379.isValid("Mu\u{0308}ller-Lu\u{0308}denscheidt", as: .names))
        // Tilde then circumflex is a different letter (no canonical reordering between marks of the same class).
        #expect(DIN91379.firstInvalidCharacter(in: "Nguye\u{0303}\u{0302}n", as: .names) == "e\u{0303}\u{0302}")
    }

    @Test("listed combining sequences pass, also when the base is spelled decomposed")
    func listedSequences() {
        for text in ["L\u{0325}", "l\u{0325}\u{0304}", "M\u{0302}", "N\u{0302}", "J\u{030C}", "\u{00C7}\u{0306}", "C\u{0327}\u{0306}",
                     "K\u{035F}han", "K\u{035F}Han", "k\u{035F}han", "\u{1EE4}\u{0308}"] {
            #expect(DIN91379.isValid(text, as: .names), "\(text.unicodeScalars.map { String($0.value, radix: 16) })")
        }
    }

    @Test("a combining mark on a base it is not listed for is refused")
    func unlistedSequences() {
        #expect(DIN91379.firstInvalidCharacter(in: "AQ\u{0302}B", as: .names) == "Q\u{0302}")
        #expect(DIN91379.firstInvalidCharacter(in: "M\u{0325}", as: .text) == "M\u{0325}")
        #expect(DIN91379.firstInvalidCharacter(in: "\u{0301}a") == "\u{0301}")
        #expect(DIN91379.firstInvalidCharacter(in: "a \u{0301}") == " \u{0301}")
        // U+035F joins two letters; only K+H, K+h and k+h are listed.
        #expect(DIN91379.firstInvalidCharacter(in: "k\u{035F}Han") == "k\u{035F}")
        #expect(DIN91379.firstInvalidCharacter(in: "K\u{035F}an") == "K\u{035F}")
        #expect(DIN91379.firstInvalidCharacter(in: "K\u{035F}") == "K\u{035F}")
    }

    @Test("street with house number is datatype B and C, but digits are no part of datatype A")
    func digits() {
        #expect(DIN91379.isValid("Straße 12a", as: .otherNames))
        #expect(DIN91379.isValid("Straße 12a", as: .text))
        #expect(!DIN91379.isValid("Straße 12a", as: .names))
        #expect(DIN91379.firstInvalidCharacter(in: "Straße 12a", as: .names) == "1")
    }

    @Test("Cyrillic, Greek, emoji and CJK are refused in every type")
    func otherScripts() {
        for type in [DIN91379.DataType.names, .otherNames, .text] {
            #expect(DIN91379.firstInvalidCharacter(in: "Иван", as: type) == "И")
            #expect(DIN91379.firstInvalidCharacter(in: "Αλέξανδρος", as: type) == "Α")
            #expect(DIN91379.firstInvalidCharacter(in: "Hallo 😀", as: type) == "😀")
            #expect(DIN91379.firstInvalidCharacter(in: "Herr 李", as: type) == "李")
        }
    }

    @Test("firstInvalidCharacter names the first offender and nil for valid text")
    func firstInvalid() {
        #expect(DIN91379.firstInvalidCharacter(in: "Müller") == nil)
        #expect(DIN91379.firstInvalidCharacter(in: "") == nil)
        #expect(DIN91379.firstInvalidCharacter(in: "Anna 李 Иван") == "李")
        #expect(DIN91379.firstInvalidCharacter(in: "Ivan Иванов 李", as: .names) == "И")
    }

    @Test("non-letters differ by type: text allows TAB, CR LF and NBSP; names no euro or digits")
    func nonLettersByType() {
        #expect(DIN91379.isValid("Zeile 1\r\nZeile 2\n\tEnde"))
        #expect(DIN91379.firstInvalidCharacter(in: "Zeile\r\nZwei", as: .otherNames) == "\r\n")
        #expect(DIN91379.firstInvalidCharacter(in: "a\tb", as: .names) == "\t")
        #expect(DIN91379.isValid("5\u{00A0}€"))
        #expect(DIN91379.firstInvalidCharacter(in: "5\u{00A0}€", as: .otherNames) == "\u{00A0}")
        #expect(DIN91379.firstInvalidCharacter(in: "5 €", as: .names) == "5")
        #expect(DIN91379.firstInvalidCharacter(in: "Ab\u{00AD}teilung") == "\u{00AD}")
        #expect(DIN91379.isValid("Nr. 3 (§ 12) 50 % @ home", as: .otherNames))
        #expect(DIN91379.firstInvalidCharacter(in: "Anna (geb. Meier)", as: .names) == "(")
    }

    @Test("table sizes match the XSD of DIN SPEC 91379:2019-03")
    func tableSizes() {
        func count(_ ranges: [ClosedRange<UInt32>]) -> Int { ranges.reduce(0) { $0 + $1.count } }
        #expect(count(DIN91379.letters) == 505)
        #expect(count(DIN91379.namesNonLetters) == 12)
        #expect(count(DIN91379.otherNamesNonLetters) == 72)
        #expect(count(DIN91379.textNonLetters) == 82)
        #expect(DIN91379.sequences.count == 147)
    }
}
