import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import AmtswegWeb

@Suite("Data self-service: export as ZIP, accesses by role and time")
struct DataSelfServiceTests {
    /// Runs Python's zipfile (an independent reader) on `archive`: checks every CRC and prints names and daten.json.
    static func readWithPython(_ archive: Data) throws -> (names: [String], document: [String: Any]) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID().uuidString).zip")
        try archive.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", """
            import json, sys, zipfile
            z = zipfile.ZipFile(sys.argv[1])
            assert z.testzip() is None, "bad CRC"
            print(json.dumps({"names": sorted(z.namelist()), "document": json.loads(z.read("daten.json"))}))
            """, file.path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw BrowserError.unexpected("python could not read the archive")
        }
        return (json["names"] as? [String] ?? [], json["document"] as? [String: Any] ?? [:])
    }

    @Test("CRC-32 check value and a readable archive with UTF-8 names and unique entries")
    func zip() throws {
        #expect(ZipWriter.crc32(Data("123456789".utf8)) == 0xCBF4_3926)
        var writer = ZipWriter()
        writer.add("daten.json", Data("{}".utf8))
        writer.add("a/Straße.pdf", Data("%PDF-1.4".utf8))
        writer.add("a/Straße.pdf", Data("%PDF-1.5".utf8))
        let (names, document) = try Self.readWithPython(writer.archive())
        #expect(names == ["a/Straße (2).pdf", "a/Straße.pdf", "daten.json"])
        #expect(document.isEmpty)
    }

    @Test("the export holds account, applications with answers, messages, files and accesses; the access page shows roles, not names")
    func export() async throws {
        try await WebHarness.run { client, portal in
            var anna = try await AccountSecurityTests.signedIn(client, portal, email: "anna@example.org")
            let empty = try await anna.get("/de/konto/zugriffe")
            #expect(empty.text.contains("id=\"no-access\""))
            let draftPath = try await CitizenFlowTests.fillAssistant(&anna)
            let submit = try await anna.post("\(draftPath)/absenden", [:])
            let id = String(submit.location.split(separator: "/").dropLast().last!)
            var staff = Browser(client)
            try await staff.staffLogin()
            try await staff.get("/de/verwaltung/vorgang/\(id)")
            try await staff.postMultipart("/de/verwaltung/vorgang/\(id)/nachricht", fields: ["kind": "message", "subject": "Bescheid", "body": "Bewilligt."],
                                          file: ("file", "Bescheid.pdf", PostfachMessageTests.pdf))
            let page = try await anna.get("/de/konto/daten")
            #expect(page.text.contains("/de/konto/daten/export.zip"))
            let export = try await anna.get("/de/konto/daten/export.zip")
            #expect(export.status == .ok && export.headers[.contentType] == "application/zip")
            let (names, document) = try Self.readWithPython(Data(buffer: export.body))
            let application = try #require((document["applications"] as? [[String: Any]])?.first)
            let caseNumber = try #require(application["caseNumber"] as? String)
            #expect(names.contains("daten.json") && names.contains("LIESMICH.txt"))
            #expect(names.contains("antraege/\(caseNumber)/unterlagen/nachweis.pdf") && names.contains("antraege/\(caseNumber)/nachrichten/Bescheid.pdf"))
            #expect((document["account"] as? [String: Any])?["email"] as? String == "anna@example.org")
            let answers = try #require(application["answers"] as? [String: Any])
            #expect((answers["person"] as? [String: Any])?["F60000000228"] as? String == "Erika")
            #expect((application["messages"] as? [[String: Any]])?.first?["subject"] as? String == "Bescheid")
            let accesses = try #require(document["accessLog"] as? [[String: Any]])
            #expect(accesses.contains { $0["action"] as? String == "viewed" && $0["who"] as? String == "Verwaltung der Behörde, Stadt Musterstadt" })
            let log = try await anna.get("/de/konto/zugriffe")
            #expect(log.text.contains("Verwaltung der Behörde, Stadt Musterstadt") && log.text.contains("Vorgang angesehen"))
            #expect(!log.text.contains("Standesamt Musterstadt"), "the case worker's name is not shown")
            // Somebody else's export has none of it.
            var bert = try await AccountSecurityTests.signedIn(client, portal, email: "bert@example.org")
            let other = try Self.readWithPython(Data(buffer: try await bert.get("/de/konto/daten/export.zip").body))
            #expect((other.document["applications"] as? [Any])?.isEmpty == true && other.names == ["LIESMICH.txt", "daten.json"])
            var stranger = Browser(client)
            #expect(try await stranger.get("/de/konto/daten/export.zip").location == "/de/konto/anmelden")
        }
    }
}
