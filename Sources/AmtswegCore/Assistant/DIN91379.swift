/// The normative character sets of DIN SPEC 91379:2019-03 (String.Latin+ 1.2), for FIM `text_latin` fields.
///
/// Tables follow the XSD patterns of the XOEV schema `urn:xoev-de:kosit:xoev:datentyp:din-spec-91379_2019-03`;
/// a multi-scalar character also passes when it is canonically equivalent to an allowed one (e.g. NFD input).
public enum DIN91379 {
    /// Data types of the standard: `names` = datatype A, `otherNames` = datatype B, `text` = datatype C.
    public enum DataType: Sendable { case names, otherNames, text }

    /// Whether every character of `text` belongs to `type`'s set (base letters, allowed combining sequences, and the type's non-letters).
    public static func isValid(_ text: String, as type: DataType = .text) -> Bool {
        firstInvalidCharacter(in: text, as: type) == nil
    }

    /// The first character of `text` outside the set, for error messages; nil when valid.
    public static func firstInvalidCharacter(in text: String, as type: DataType = .text) -> Character? {
        let others = nonLetters(type)
        var characters = text.makeIterator()
        while let character = characters.next() {
            let scalars = character.unicodeScalars
            if scalars.count == 1, let value = scalars.first?.value {
                // A lone scalar is judged by code point, exactly as the XSD pattern does.
                if covers(letters, value) || covers(others, value) { continue }
                return character
            }
            // U+035F (double macron below) spans two letters, so "K\u{035F}H" arrives as the Characters "K\u{035F}" and "H".
            if scalars.last?.value == 0x035F {
                guard let next = characters.next(), sequences.contains(String(character) + String(next)) else { return character }
                continue
            }
            if clusters.contains(String(character)) { continue }
            // Swift keeps CR LF as one Character; datatype C allows both scalars.
            if type == .text, character == "\r\n" { continue }
            return character
        }
        return nil
    }

    /// Whether one of `ranges` contains `value`.
    private static func covers(_ ranges: [ClosedRange<UInt32>], _ value: UInt32) -> Bool {
        ranges.contains { $0.contains(value) }
    }

    /// The single-scalar non-letters (for B and C also the letters U+00AA, U+00B5, U+00BA, which A lacks) that `type` allows besides `letters`.
    private static func nonLetters(_ type: DataType) -> [ClosedRange<UInt32>] {
        switch type {
        case .names: namesNonLetters
        case .otherNames: otherNamesNonLetters
        case .text: textNonLetters
        }
    }

    /// Normative Latin letters as single scalars, common to datatypes A, B and C (505 scalars).
    static let letters: [ClosedRange<UInt32>] = [
        0x0041...0x005A, 0x0061...0x007A, 0x00C0...0x00D6, 0x00D8...0x00F6, 0x00F8...0x017E, 0x0187...0x0188,
        0x018F...0x018F, 0x0197...0x0197, 0x01A0...0x01A1, 0x01AF...0x01B0, 0x01B7...0x01B7, 0x01CD...0x01DC,
        0x01DE...0x01DF, 0x01E2...0x01F0, 0x01F4...0x01F5, 0x01F8...0x01FF, 0x0212...0x0213, 0x0218...0x021B,
        0x021E...0x021F, 0x0227...0x0233, 0x0259...0x0259, 0x0268...0x0268, 0x0292...0x0292, 0x02B9...0x02BA,
        0x02BE...0x02BF, 0x02C8...0x02C8, 0x02CC...0x02CC, 0x1E02...0x1E03, 0x1E06...0x1E07, 0x1E0A...0x1E11,
        0x1E1C...0x1E2B, 0x1E2F...0x1E37, 0x1E3A...0x1E3B, 0x1E40...0x1E49, 0x1E52...0x1E5B, 0x1E5E...0x1E63,
        0x1E6A...0x1E6F, 0x1E80...0x1E87, 0x1E8C...0x1E97, 0x1E9E...0x1E9E, 0x1EA0...0x1EF9
    ]

    /// Datatype A's non-letters: space ' , - . ` ~, diaeresis, acute, middle dot, right single quote, double dagger (12 scalars).
    static let namesNonLetters: [ClosedRange<UInt32>] = [
        0x0020...0x0020, 0x0027...0x0027, 0x002C...0x002E, 0x0060...0x0060, 0x007E...0x007E, 0x00A8...0x00A8,
        0x00B4...0x00B4, 0x00B7...0x00B7, 0x2019...0x2019, 0x2021...0x2021
    ]

    /// Datatype B's non-letters: printable ASCII, Latin-1 signs except U+00A0, A4, A6, AD, B8, BC-BE, plus U+2019, 2021, 20AC (72 scalars).
    static let otherNamesNonLetters: [ClosedRange<UInt32>] = [
        0x0020...0x0040, 0x005B...0x0060, 0x007B...0x007E, 0x00A1...0x00A3, 0x00A5...0x00A5, 0x00A7...0x00AC,
        0x00AE...0x00B7, 0x00B9...0x00BB, 0x00BF...0x00BF, 0x00D7...0x00D7, 0x00F7...0x00F7, 0x2019...0x2019,
        0x2021...0x2021, 0x20AC...0x20AC
    ]

    /// Datatype C's non-letters: TAB, LF, CR, printable ASCII, Latin-1 signs except U+00AD, plus U+2019, 2021, 20AC (82 scalars).
    static let textNonLetters: [ClosedRange<UInt32>] = [
        0x0009...0x000A, 0x000D...0x000D, 0x0020...0x0040, 0x005B...0x0060, 0x007B...0x007E, 0x00A0...0x00AC,
        0x00AE...0x00BF, 0x00D7...0x00D7, 0x00F7...0x00F7, 0x2019...0x2019, 0x2021...0x2021, 0x20AC...0x20AC
    ]

    /// Normative letters built from a base letter and combining marks, the same for datatypes A, B and C (147 sequences).
    static let sequences: Set<String> = [
        "A\u{030B}", "C\u{0300}", "C\u{0304}", "C\u{0306}", "C\u{0308}", "C\u{0315}", "C\u{0323}", "C\u{0326}",
        "C\u{0328}\u{0306}", "D\u{0302}", "F\u{0300}", "F\u{0304}", "G\u{0300}", "H\u{0304}", "H\u{0326}",
        "H\u{0331}", "J\u{0301}", "J\u{030C}", "K\u{0300}", "K\u{0302}", "K\u{0304}", "K\u{0307}", "K\u{0315}",
        "K\u{031B}", "K\u{0326}", "K\u{035F}H", "K\u{035F}h", "L\u{0302}", "L\u{0325}", "L\u{0325}\u{0304}",
        "L\u{0326}", "M\u{0300}", "M\u{0302}", "M\u{0306}", "M\u{0310}", "N\u{0302}", "N\u{0304}", "N\u{0306}",
        "N\u{0326}", "P\u{0300}", "P\u{0304}", "P\u{0315}", "P\u{0323}", "R\u{0306}", "R\u{0325}",
        "R\u{0325}\u{0304}", "S\u{0300}", "S\u{0304}", "S\u{031B}\u{0304}", "S\u{0331}", "T\u{0300}", "T\u{0304}",
        "T\u{0308}", "T\u{0315}", "T\u{031B}", "U\u{0307}", "Z\u{0300}", "Z\u{0304}", "Z\u{0306}", "Z\u{0308}",
        "Z\u{0327}",
        "a\u{030B}", "c\u{0300}", "c\u{0304}", "c\u{0306}", "c\u{0308}", "c\u{0315}", "c\u{0323}", "c\u{0326}",
        "c\u{0328}\u{0306}", "d\u{0302}", "f\u{0300}", "f\u{0304}", "g\u{0300}", "h\u{0304}", "h\u{0326}",
        "j\u{0301}", "k\u{0300}", "k\u{0302}", "k\u{0304}", "k\u{0307}", "k\u{0315}", "k\u{031B}", "k\u{0326}",
        "k\u{035F}h", "l\u{0302}", "l\u{0325}", "l\u{0325}\u{0304}", "l\u{0326}", "m\u{0300}", "m\u{0302}",
        "m\u{0306}", "m\u{0310}", "n\u{0302}", "n\u{0304}", "n\u{0306}", "n\u{0326}", "p\u{0300}", "p\u{0304}",
        "p\u{0315}", "p\u{0323}", "r\u{0306}", "r\u{0325}", "r\u{0325}\u{0304}", "s\u{0300}", "s\u{0304}",
        "s\u{031B}\u{0304}", "s\u{0331}", "t\u{0300}", "t\u{0304}", "t\u{0315}", "t\u{031B}", "u\u{0307}",
        "z\u{0300}", "z\u{0304}", "z\u{0306}", "z\u{0308}", "z\u{0327}",
        "\u{00C7}\u{0306}", "\u{00DB}\u{0304}", "\u{00E7}\u{0306}", "\u{00FB}\u{0304}", "\u{00FF}\u{0301}",
        "\u{010C}\u{0315}", "\u{010C}\u{0323}", "\u{010D}\u{0315}", "\u{010D}\u{0323}", "\u{012A}\u{0301}",
        "\u{012B}\u{0301}", "\u{017D}\u{0326}", "\u{017D}\u{0327}", "\u{017E}\u{0326}", "\u{017E}\u{0327}",
        "\u{1E32}\u{0304}", "\u{1E33}\u{0304}", "\u{1E62}\u{0304}", "\u{1E63}\u{0304}", "\u{1E6C}\u{0304}",
        "\u{1E6D}\u{0304}", "\u{1EA0}\u{0308}", "\u{1EA1}\u{0308}", "\u{1ECC}\u{0308}", "\u{1ECD}\u{0308}",
        "\u{1EE4}\u{0304}", "\u{1EE4}\u{0308}", "\u{1EE5}\u{0304}", "\u{1EE5}\u{0308}"
    ]

    /// Every allowed multi-scalar spelling: the sequences plus the letters, which decomposed input is canonically equivalent to.
    private static let clusters: Set<String> = sequences.union(
        // String hashing and == follow canonical equivalence, so "u\u{0308}" is found as "\u{00FC}" without Foundation's NFC.
        letters.flatMap { $0 }.compactMap { Unicode.Scalar($0) }.map { String(Character($0)) }
    )
}
