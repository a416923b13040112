import Crypto
import Foundation

/// A text document as PDF/A-3b: embedded, subset TrueType fonts (Identity-H with ToUnicode, so text can be extracted
/// and read aloud), a structure tree (H1, H2, P) over marked content, the language, XMP metadata with the PDF/A
/// identification, an sRGB output intent, and a file attached with its relationship (the structured data as JSON).
struct PDFADocument {
    /// The fonts of a document: regular and bold.
    struct Fonts: Sendable {
        let regular: TrueTypeFont
        let bold: TrueTypeFont
    }

    /// The role of a block in the structure tree.
    enum Role: String { case h1 = "H1", h2 = "H2", paragraph = "P" }

    struct Block {
        let role: Role
        let text: String
        let size: Double
        let bold: Bool
        let gapBefore: Double
    }

    /// A file carried inside the PDF (PDF/A-3 associated file).
    struct Attachment {
        let filename: String
        let mimeType: String
        let description: String
        let data: Data
    }

    let title: String
    let language: String
    var blocks: [Block] = []
    var attachment: Attachment?

    /// An empty document.
    init(title: String, language: String) {
        self.title = title
        self.language = language
    }

    /// Adds a block of text, wrapped to the page width.
    mutating func add(_ role: Role, _ text: String, size: Double = 11, bold: Bool = false, gapBefore: Double = 0) {
        blocks.append(Block(role: role, text: text, size: size, bold: bold, gapBefore: gapBefore))
    }

    static let pageWidth = 595.0, pageHeight = 842.0, margin = 56.0

    /// One laid-out line: which block it belongs to, where it goes.
    struct Line { let block: Int; let glyphs: [UInt16]; let size: Double; let bold: Bool; let y: Double }

    /// Lines per page, wrapped by the fonts' real widths.
    func layout(_ fonts: Fonts) -> [[Line]] {
        var pages: [[Line]] = [[]]
        var y = Self.pageHeight - Self.margin
        let width = Self.pageWidth - 2 * Self.margin
        for (index, block) in blocks.enumerated() {
            let font = block.bold ? fonts.bold : fonts.regular
            var first = true
            for text in Self.wrap(block.text, width: width, font: font, size: block.size) {
                let height = block.size * 1.4 + (first ? block.gapBefore : 0)
                if y - height < Self.margin { pages.append([]); y = Self.pageHeight - Self.margin }
                y -= height
                pages[pages.count - 1].append(Line(block: index, glyphs: text.unicodeScalars.map { font.glyph($0) }, size: block.size, bold: block.bold, y: y))
                first = false
            }
        }
        return pages
    }

    /// Splits text at spaces (and its own line breaks) into lines that fit `width`; longer words are cut.
    static func wrap(_ text: String, width: Double, font: TrueTypeFont, size: Double) -> [String] {
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var current = ""
            for word in paragraph.split(separator: " ") {
                var piece = String(word)
                while font.width(of: piece, size: size) > width {
                    if !current.isEmpty { lines.append(current); current = "" }
                    var cut = piece.count
                    while cut > 1, font.width(of: String(piece.prefix(cut)), size: size) > width { cut -= 1 }
                    lines.append(String(piece.prefix(cut)))
                    piece = String(piece.dropFirst(cut))
                }
                let candidate = current.isEmpty ? piece : current + " " + piece
                if font.width(of: candidate, size: size) <= width { current = candidate } else {
                    lines.append(current)
                    current = piece
                }
            }
            lines.append(current)
        }
        return lines
    }

    /// The PDF bytes.
    func data(fonts: Fonts, created: Date = Date()) -> Data {
        let pages = layout(fonts)
        var writer = PDFObjects()
        let catalog = writer.reserve(), pagesRoot = writer.reserve(), structRoot = writer.reserve(), documentElement = writer.reserve()
        let parentTree = writer.reserve()
        let pageIds = pages.map { _ in writer.reserve() }
        let blockIds = blocks.map { _ in writer.reserve() }
        var used: [Bool: Set<UInt16>] = [false: [], true: []]
        for line in pages.joined() { used[line.bold, default: []].formUnion(line.glyphs) }
        let fontIds = [false, true].map { bold in
            embed(&writer, font: bold ? fonts.bold : fonts.regular, glyphs: used[bold] ?? [], text: blocks.filter { $0.bold == bold }.map(\.text))
        }
        var markedContent: [Int: [(page: Int, mcid: Int)]] = [:]
        for (pageIndex, lines) in pages.enumerated() {
            var content = ""
            for (mcid, line) in lines.enumerated() {
                markedContent[line.block, default: []].append((pageIndex, mcid))
                let hex = line.glyphs.map { String(format: "%04X", $0) }.joined()
                content += "/\(blocks[line.block].role.rawValue) <</MCID \(mcid)>> BDC BT /F\(line.bold ? 2 : 1) \(Self.number(line.size)) Tf "
                content += "\(Self.number(Self.margin)) \(Self.number(line.y)) Td <\(hex)> Tj ET EMC\n"
            }
            let contentId = writer.add(stream: Data(content.utf8))
            writer.set(pageIds[pageIndex], """
                << /Type /Page /Parent \(pagesRoot) 0 R /MediaBox [0 0 595 842] /Contents \(contentId) 0 R /StructParents \(pageIndex) /Tabs /S
                /Resources << /Font << /F1 \(fontIds[0]) 0 R /F2 \(fontIds[1]) 0 R >> >> >>
                """)
        }
        writer.set(pagesRoot, "<< /Type /Pages /Kids [\(pageIds.map { "\($0) 0 R" }.joined(separator: " "))] /Count \(pages.count) >>")
        for (index, block) in blocks.enumerated() {
            let parts = markedContent[index] ?? []
            let kids = parts.map { "<< /Type /MCR /Pg \(pageIds[$0.page]) 0 R /MCID \($0.mcid) >>" }.joined(separator: " ")
            writer.set(blockIds[index], "<< /Type /StructElem /S /\(block.role.rawValue) /P \(documentElement) 0 R /K [\(kids)] >>")
        }
        writer.set(documentElement, "<< /Type /StructElem /S /Document /P \(structRoot) 0 R /K [\(blockIds.map { "\($0) 0 R" }.joined(separator: " "))] >>")
        let nums = pages.enumerated().map { pageIndex, lines in
            "\(pageIndex) [\(lines.map { "\(blockIds[$0.block]) 0 R" }.joined(separator: " "))]"
        }.joined(separator: " ")
        writer.set(parentTree, "<< /Nums [\(nums)] >>")
        writer.set(structRoot, "<< /Type /StructTreeRoot /K \(documentElement) 0 R /ParentTree \(parentTree) 0 R /ParentTreeNextKey \(pages.count) >>")
        let metadata = writer.add(stream: Data(xmp(created: created).utf8), dictionary: "/Type /Metadata /Subtype /XML")
        let profile = writer.add(stream: SRGBProfile.data, dictionary: "/N 3")
        var extras = ""
        if let attachment {
            let date = Self.pdfDate(created)
            let file = writer.add(stream: attachment.data, dictionary: """
                /Type /EmbeddedFile /Subtype /\(attachment.mimeType.replacingOccurrences(of: "/", with: "#2F")) /Params << /Size \(attachment.data.count) /ModDate (\(date)) >>
                """)
            let spec = writer.add("""
                << /Type /Filespec /F (\(attachment.filename)) /UF \(Self.textString(attachment.filename)) /EF << /F \(file) 0 R /UF \(file) 0 R >>
                /Desc \(Self.textString(attachment.description)) /AFRelationship /Data >>
                """)
            extras = "/Names << /EmbeddedFiles << /Names [(\(attachment.filename)) \(spec) 0 R] >> >> /AF [\(spec) 0 R]"
        }
        writer.set(catalog, """
            << /Type /Catalog /Pages \(pagesRoot) 0 R /Lang \(Self.textString(language)) /MarkInfo << /Marked true >>
            /StructTreeRoot \(structRoot) 0 R /Metadata \(metadata) 0 R /ViewerPreferences << /DisplayDocTitle true >>
            /OutputIntents [<< /Type /OutputIntent /S /GTS_PDFA1 /OutputConditionIdentifier (sRGB IEC61966-2.1) /Info (sRGB) /DestOutputProfile \(profile) 0 R >>]
            \(extras) >>
            """)
        return writer.serialize(root: catalog, id: Data(SHA256.hash(data: Data((title + Self.pdfDate(created)).utf8)).prefix(16)))
    }

    /// Embeds a font as Type0/CIDFontType2 (Identity-H) with a subset font file, widths and a ToUnicode map.
    private func embed(_ writer: inout PDFObjects, font: TrueTypeFont, glyphs: Set<UInt16>, text: [String]) -> Int {
        let sorted = glyphs.sorted()
        // The subset tag: six capitals derived from the glyph set, as PDF requires for subset fonts.
        let digest = Array(SHA256.hash(data: Data(sorted.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] })))
        let tag = String(digest.prefix(6).map { Character(Unicode.Scalar(65 + $0 % 26)) })
        let name = "\(tag)+\(font.postScriptName)"
        let file = font.subset(glyphs)
        let fontFile = writer.add(stream: file, dictionary: "/Length1 \(file.count)")
        let scale = 1000.0 / Double(font.unitsPerEm)
        let box = font.boundingBox
        let descriptor = writer.add("""
            << /Type /FontDescriptor /FontName /\(name) /Flags 32 /FontBBox [\(Int(Double(box.0) * scale)) \(Int(Double(box.1) * scale)) \
            \(Int(Double(box.2) * scale)) \(Int(Double(box.3) * scale))] /ItalicAngle \(Self.number(font.italicAngle)) /Ascent \(Int(Double(font.ascender) * scale)) \
            /Descent \(Int(Double(font.descender) * scale)) /CapHeight \(Int(Double(font.capHeight) * scale)) /StemV 80 /FontFile2 \(fontFile) 0 R >>
            """)
        let widths = sorted.map { "\($0) [\(Self.number(font.width($0)))]" }.joined(separator: " ")
        let cidFont = writer.add("""
            << /Type /Font /Subtype /CIDFontType2 /BaseFont /\(name) /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >>
            /FontDescriptor \(descriptor) 0 R /DW 1000 /W [\(widths)] /CIDToGIDMap /Identity >>
            """)
        var unicode: [UInt16: String] = [:]
        for scalar in text.joined().unicodeScalars {
            let glyph = font.glyph(scalar)
            if glyph != 0, unicode[glyph] == nil { unicode[glyph] = String(scalar) }
        }
        let toUnicode = writer.add(stream: Data(Self.toUnicodeCMap(unicode).utf8))
        return writer.add("<< /Type /Font /Subtype /Type0 /BaseFont /\(name) /Encoding /Identity-H /DescendantFonts [\(cidFont) 0 R] /ToUnicode \(toUnicode) 0 R >>")
    }

    static func toUnicodeCMap(_ map: [UInt16: String]) -> String {
        var text = """
            /CIDInit /ProcSet findresource begin
            12 dict begin
            begincmap
            /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
            /CMapName /Adobe-Identity-UCS def
            /CMapType 2 def
            1 begincodespacerange
            <0000> <FFFF>
            endcodespacerange

            """
        let entries = map.sorted { $0.key < $1.key }
        for start in stride(from: 0, to: entries.count, by: 100) {
            let chunk = entries[start..<min(entries.count, start + 100)]
            text += "\(chunk.count) beginbfchar\n"
            for (glyph, string) in chunk {
                text += "<\(String(format: "%04X", glyph))> <\(string.utf16.map { String(format: "%04X", $0) }.joined())>\n"
            }
            text += "endbfchar\n"
        }
        text += "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
        return text
    }

    private func xmp(created: Date) -> String {
        let date = ISO8601DateFormatter.string(from: created, timeZone: TimeZone(identifier: "Europe/Berlin") ?? .gmt,
                                               formatOptions: [.withInternetDateTime])
        return """
            <?xpacket begin="\u{FEFF}" id="W5M0MpCehiHzreSzNTczkc9d"?>
            <x:xmpmeta xmlns:x="adobe:ns:meta/">
            <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
            <rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/" xmlns:dc="http://purl.org/dc/elements/1.1/"
             xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
            <pdfaid:part>3</pdfaid:part>
            <pdfaid:conformance>B</pdfaid:conformance>
            <dc:format>application/pdf</dc:format>
            <dc:title><rdf:Alt><rdf:li xml:lang="x-default">\(XMLEscape.escape(title))</rdf:li></rdf:Alt></dc:title>
            <dc:language><rdf:Bag><rdf:li>\(XMLEscape.escape(language))</rdf:li></rdf:Bag></dc:language>
            <xmp:CreateDate>\(date)</xmp:CreateDate>
            <xmp:ModifyDate>\(date)</xmp:ModifyDate>
            <xmp:CreatorTool>Amtsweg</xmp:CreatorTool>
            <pdf:Producer>Amtsweg</pdf:Producer>
            </rdf:Description>
            </rdf:RDF>
            </x:xmpmeta>
            <?xpacket end="w"?>
            """
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }

    static func pdfDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmmss"
        return "D:\(formatter.string(from: date))Z"
    }

    /// A PDF text string as UTF-16BE hex with byte-order mark.
    static func textString(_ text: String) -> String {
        "<FEFF" + text.utf16.map { String(format: "%04X", $0) }.joined() + ">"
    }
}

/// XML text escaping for the XMP packet.
enum XMLEscape {
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}

/// The numbered objects of a PDF file and their serialization with a cross-reference table.
struct PDFObjects {
    private var objects: [Data?] = []

    /// A number for an object written later.
    mutating func reserve() -> Int {
        objects.append(nil)
        return objects.count
    }

    /// Sets a reserved object's dictionary.
    mutating func set(_ number: Int, _ dictionary: String) { objects[number - 1] = Data(dictionary.utf8) }

    /// Adds an object; returns its number.
    mutating func add(_ dictionary: String) -> Int {
        objects.append(Data(dictionary.utf8))
        return objects.count
    }

    /// Adds a stream (uncompressed) with extra dictionary entries.
    mutating func add(stream: Data, dictionary: String = "") -> Int {
        var object = Data("<< \(dictionary) /Length \(stream.count) >>\nstream\n".utf8)
        object.append(stream)
        object.append(Data("\nendstream".utf8))
        objects.append(object)
        return objects.count
    }

    /// The file: header with a binary comment, objects, xref, trailer with the file id.
    func serialize(root: Int, id: Data) -> Data {
        var output = Data("%PDF-1.7\n%\u{E2}\u{E3}\u{CF}\u{D3}\n".utf8)
        var offsets: [Int] = []
        for (index, object) in objects.enumerated() {
            offsets.append(output.count)
            output.append(Data("\(index + 1) 0 obj\n".utf8))
            output.append(object ?? Data("null".utf8))
            output.append(Data("\nendobj\n".utf8))
        }
        let xref = output.count
        output.append(Data("xref\n0 \(objects.count + 1)\n0000000000 65535 f \n".utf8))
        for offset in offsets { output.append(Data(String(format: "%010d 00000 n \n", offset).utf8)) }
        let hex = id.map { String(format: "%02X", $0) }.joined()
        output.append(Data("trailer\n<< /Size \(objects.count + 1) /Root \(root) 0 R /ID [<\(hex)> <\(hex)>] >>\nstartxref\n\(xref)\n%%EOF\n".utf8))
        return output
    }
}
