import AmtswegCore
import AmtswegStorage
import Foundation
import Testing
@testable import AmtswegWeb

@Suite("Antragsbestätigung as PDF/A-3b")
struct ReceiptPDFATests {
    /// A receipt of a submitted application of the demo portal.
    static func receipt(_ portal: Portal, _ id: String, locale: AppLocale = .de) async throws -> (Data, ApplicationRecord) {
        let tenant = try #require(try await portal.tenants.find(ars: DemoData.ars))
        let application = try #require(try await portal.applications.find(tenantId: tenant.id, id: id))
        let assistant = try #require(portal.assistant(application.assistantId, version: application.assistantVersion))
        let attachments = try await portal.applications.attachments(tenantId: tenant.id, id: id)
        let pdf = ReceiptDocument(application: application, assistant: assistant, tenant: tenant, office: "Standesamt",
                                  attachments: attachments, translator: portal.translator(locale)).pdf()
        return (pdf, application)
    }

    /// Runs e2e/check_pdfa.py on `pdf`, expecting each of `texts` to be extractable.
    static func check(_ pdf: Data, texts: [String]) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("receipt-\(UUID().uuidString).pdf")
        try pdf.write(to: file)
        let checker = Process()
        checker.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        checker.arguments = ["python3", PythonTestServer.folder.appendingPathComponent("check_pdfa.py").path, file.path] + texts
        let output = Pipe()
        checker.standardOutput = output
        checker.standardError = output
        try checker.run()
        checker.waitUntilExit()
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(checker.terminationStatus == 0 && report.contains("OK"), "\(report)")
    }

    @Test("the receipt passes the PDF/A and accessibility checks of independent tools, and its text can be extracted")
    func pdfa() async throws {
        guard try PythonTestServer.hasModule("pikepdf"), try PythonTestServer.hasModule("PIL") else { return }
        try await WebHarness.run { client, portal in
            let (id, caseNumber) = try await CaseWorkerAndAPITests.submitOne(client)
            let (pdf, _) = try await Self.receipt(portal, id)
            try Self.check(pdf, texts: ["Antragsbestätigung", caseNumber, "Erika", "Meißen"])
            let (english, _) = try await Self.receipt(portal, id, locale: .en)
            try Self.check(english, texts: [caseNumber])
        }
    }

    @Test("long answers wrap by the font's widths and flow onto a second page; names beyond Latin-1 survive")
    func twoPages() throws {
        let fonts = ReceiptDocument.fonts
        var document = PDFADocument(title: "Test", language: "de")
        document.add(.h1, "Antragsbestätigung", size: 18, bold: true)
        for index in 1...40 {
            document.add(.paragraph, "Feld \(index)", bold: true, gapBefore: 4)
            document.add(.paragraph, "Łukasz Żółkiewski-Ćwikła, Straße \(index), Şanlıurfa – ein langer Text " + String(repeating: "Wort ", count: 30))
        }
        document.attachment = .init(filename: "daten.json", mimeType: "application/json", description: "Daten", data: Data("{}".utf8))
        let pages = document.layout(fonts)
        #expect(pages.count >= 2)
        let widest = pages.joined().map { line in line.glyphs.reduce(0) { $0 + fonts.regular.width($1) } * line.size / 1000 }.max() ?? 0
        #expect(widest <= PDFADocument.pageWidth - 2 * PDFADocument.margin + 0.01)
        #expect(pages.joined().allSatisfy { !$0.glyphs.contains(0) }, "every character has a glyph in DejaVu Sans")
        guard try PythonTestServer.hasModule("pikepdf"), try PythonTestServer.hasModule("PIL") else { return }
        try Self.check(document.data(fonts: fonts), texts: ["Łukasz Żółkiewski-Ćwikła", "Şanlıurfa"])
    }

    @Test("a font subset keeps glyph ids, drops unused outlines and has valid table checksums")
    func subset() throws {
        let font = ReceiptDocument.fonts.regular
        let glyphs = Set("Amtsweg Ä".unicodeScalars.map { font.glyph($0) })
        #expect(!glyphs.contains(0) && font.numGlyphs > 3000)
        let subset = try TrueTypeFont(data: font.subset(glyphs))
        #expect(subset.numGlyphs == font.numGlyphs)
        #expect(subset.bytes.count < font.bytes.count / 4, "\(subset.bytes.count) bytes")
        for scalar in "Amtsweg Ä".unicodeScalars { #expect(subset.width(font.glyph(scalar)) == font.width(font.glyph(scalar))) }
        #expect(TrueTypeFont.checksum(subset.bytes) & 0xFFFF_FFFF == 0xB1B0_AFBA, "whole-file checksum with checkSumAdjustment")
    }
}
