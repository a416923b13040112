import AmtswegCore
import Foundation
import Testing
@testable import AmtswegWeb

@Suite("Published assistant versions are immutable")
struct PublishedVersionsTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/AmtswegWeb/Resources/assistants")

    @Test("every shipped definition matches its locked hash, and every locked version is still shipped")
    func lock() throws {
        let lockText = try String(contentsOf: Self.folder.appendingPathComponent("versions.lock"), encoding: .utf8)
        var locked: [String: String] = [:]
        for line in lockText.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            guard parts.count == 3 else { Issue.record("bad lock line \(line)"); continue }
            locked["\(parts[0]) \(parts[1])"] = String(parts[2])
        }
        var shipped = Set<String>()
        let files = FileManager.default.enumerator(atPath: Self.folder.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".json") } ?? []
        for file in files {
            let data = try Data(contentsOf: Self.folder.appendingPathComponent(file))
            let definition = try AssistantDefinition.load(json: data, source: file)
            let key = "\(definition.id) \(definition.version)"
            shipped.insert(key)
            let hash = SecureToken.sha256Hex(data)
            #expect(locked[key] == hash, "\(file): \(key) changed after publication (or is new): publish it as a new version and add '\(key) \(hash)' to versions.lock")
        }
        #expect(Set(locked.keys).isSubset(of: shipped), "published versions must stay shipped: \(Set(locked.keys).subtracting(shipped).sorted())")
        #expect(shipped.count == locked.count, "every shipped version is locked")
    }
}
