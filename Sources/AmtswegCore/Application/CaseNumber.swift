/// Generates Vorgangsnummern and access codes: random, readable aloud, without look-alike characters.
///
/// Crockford's base-32 alphabet drops I, L, O and U, so "0/O" and "1/I/L" cannot be confused on the phone.
public enum CaseNumber {
    /// The 32 characters used.
    public static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    /// A new Vorgangsnummer such as `7K4M-9XQ2-RB`: 10 characters, 50 random bits.
    public static func generate<G: RandomNumberGenerator>(using generator: inout G) -> String {
        let characters = (0..<10).map { _ in alphabet[Int.random(in: 0..<32, using: &generator)] }
        return "\(String(characters[0..<4]))-\(String(characters[4..<8]))-\(String(characters[8..<10]))"
    }

    /// A new Vorgangsnummer from the system's secure random source.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return generate(using: &generator)
    }

    /// A new access code such as `Q7RM-X4PA`: 8 characters, 40 random bits, checked only with throttling.
    public static func generateAccessCode() -> String {
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<8).map { _ in alphabet[Int.random(in: 0..<32, using: &generator)] }
        return "\(String(characters[0..<4]))-\(String(characters[4..<8]))"
    }

    /// Canonical form of what a citizen typed: upper case, look-alikes mapped, dashes placed; nil if impossible.
    public static func normalise(_ input: String, length: Int) -> String? {
        var characters: [Character] = []
        for character in input.uppercased() {
            switch character {
            case "-", " ": continue
            case "O": characters.append("0")
            case "I", "L": characters.append("1")
            default:
                guard alphabet.contains(character) else { return nil }
                characters.append(character)
            }
        }
        guard characters.count == length else { return nil }
        var result = ""
        for (index, character) in characters.enumerated() {
            if index > 0 && index % 4 == 0 { result.append("-") }
            result.append(character)
        }
        return result
    }
}
