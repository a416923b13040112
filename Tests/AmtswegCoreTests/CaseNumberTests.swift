import Testing
@testable import AmtswegCore

@Suite("Vorgangsnummer and access code")
struct CaseNumberTests {
    @Test("format is XXXX-XXXX-XX in Crockford base 32")
    func format() {
        let number = CaseNumber.generate()
        #expect(number.count == 12)
        #expect(number.split(separator: "-").map(\.count) == [4, 4, 2])
        #expect(number.replacingOccurrences(of: "-", with: "").allSatisfy { CaseNumber.alphabet.contains($0) })
        #expect(!number.contains("I") && !number.contains("L") && !number.contains("O") && !number.contains("U"))
    }

    @Test("100 000 generated numbers are all different")
    func uniqueness() {
        var seen = Set<String>()
        for _ in 0..<100_000 { seen.insert(CaseNumber.generate()) }
        #expect(seen.count == 100_000)
    }

    @Test("what a citizen types is normalised; look-alikes are mapped")
    func normalise() {
        #expect(CaseNumber.normalise("7k4m 9xq2 rb", length: 10) == "7K4M-9XQ2-RB")
        #expect(CaseNumber.normalise("OIL0-0000-00", length: 10) == "0110-0000-00")
        #expect(CaseNumber.normalise("7K4M-9XQ2", length: 10) == nil)
        #expect(CaseNumber.normalise("7K4M-9XQ2-R!", length: 10) == nil)
        #expect(CaseNumber.normalise(CaseNumber.generateAccessCode(), length: 8) != nil)
    }
}
