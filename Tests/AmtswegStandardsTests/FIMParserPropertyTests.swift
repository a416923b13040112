import Foundation
import PropertyBased
import Testing
@testable import AmtswegStandards

@Suite("XDatenfelder import under damaged input (property-based)")
struct FIMParserPropertyTests {
    static let source = try! FIMFiles.data("S00000000362.xdf3.xml")

    /// Imports `data`: either an assistant with at least one page or a thrown error, never a crash or an empty result.
    static func check(_ data: Data) {
        do {
            let result = try FIMImporter(availableCodeLists: FIMFiles.codeLists)
                .importMessage(data, source: "damaged.xml", assistantId: "damaged", leikaKey: "99010012001001")
            #expect(!result.definition.pages.isEmpty)
        } catch {
            #expect(!String(describing: error).isEmpty, "an error must say what is wrong")
        }
    }

    @Test("property: a real schema with a byte range cut out imports or is refused with an error")
    func cutOut() async {
        await propertyCheck(count: 150, input: Gen.int(in: 0...Self.source.count - 1), Gen.int(in: 1...400)) { start, length in
            var data = Self.source
            data.removeSubrange(start..<min(data.count, start + length))
            Self.check(data)
        }
    }

    @Test("property: a real schema with random text inserted imports or is refused with an error")
    func inserted() async {
        let text = Gen.element(of: Array("<>/=\"' &;#x0-9aZ\n]]>?!")).array(of: 1...40).map { String($0.compactMap { $0 }) }
        await propertyCheck(count: 150, input: Gen.int(in: 0...Self.source.count), text) { position, insertion in
            var data = Self.source
            data.insert(contentsOf: Data(insertion.utf8), at: position)
            Self.check(data)
        }
    }

    @Test("empty input and text without an element are refused (FoundationXML's XMLDocument crashed on them)")
    func empty() {
        for data in [Data(), Data("   ".utf8), Data("\u{FEFF}".utf8), Data([0, 0, 0, 0]), Data("hello".utf8)] {
            #expect(throws: (any Error).self) {
                try FIMImporter(availableCodeLists: []).importMessage(data, source: "x.xml", assistantId: "x", leikaKey: "99010012001001")
            }
        }
    }

    @Test("property: arbitrary bytes are refused")
    func arbitrary() async {
        await propertyCheck(count: 150, input: Gen.uint8().array(of: 0...2000)) { bytes in
            #expect(throws: (any Error).self) {
                try FIMImporter(availableCodeLists: []).importMessage(Data(bytes), source: "x.xml", assistantId: "x", leikaKey: "99010012001001")
            }
        }
    }
}
