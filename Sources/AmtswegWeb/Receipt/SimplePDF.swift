import Foundation

/// A minimal PDF writer for text documents: A4 pages, Helvetica in WinAnsi encoding, automatic line wrapping.
///
/// Enough for a readable Antragsbestätigung; PDF/A with embedded fonts and tagging is issue #5's work.
struct SimplePDF {
    /// One line of text with its style.
    struct Line {
        let text: String
        let size: Double
        let bold: Bool
        let gapBefore: Double
    }

    private var lines: [Line] = []
    /// Document title for the info dictionary.
    let title: String
    /// BCP 47 language of the text, for screen readers.
    let language: String

    /// Starts an empty document.
    init(title: String, language: String) {
        self.title = title
        self.language = language
    }

    /// Adds a paragraph, wrapped to the page width.
    mutating func paragraph(_ text: String, size: Double = 11, bold: Bool = false, gapBefore: Double = 0) {
        let maxCharacters = Int(483 / (size * 0.52))
        var first = true
        for line in Self.wrap(text, width: maxCharacters) {
            lines.append(Line(text: line, size: size, bold: bold, gapBefore: first ? gapBefore : 0))
            first = false
        }
    }

    /// Splits text at spaces into lines of at most `width` characters (longer words are cut).
    static func wrap(_ text: String, width: Int) -> [String] {
        var result: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var current = ""
            for word in paragraph.split(separator: " ") {
                var piece = String(word)
                while piece.count > width {
                    if !current.isEmpty { result.append(current); current = "" }
                    result.append(String(piece.prefix(width)))
                    piece = String(piece.dropFirst(width))
                }
                if current.isEmpty { current = piece } else if current.count + 1 + piece.count <= width { current += " " + piece } else {
                    result.append(current)
                    current = piece
                }
            }
            result.append(current)
        }
        return result
    }

    /// The PDF bytes.
    func data() -> Data {
        var pages: [[Line]] = [[]]
        var y = 786.0
        for line in lines {
            let height = line.size * 1.4 + line.gapBefore
            if y - height < 56 { pages.append([]); y = 786 }
            pages[pages.count - 1].append(line)
            y -= height
        }
        var objects: [Data] = []
        // 1 catalog, 2 pages, 3 regular font, 4 bold font, 5 info, then page/content pairs.
        let pageIds = pages.indices.map { 6 + $0 * 2 }
        objects.append(Data("<< /Type /Catalog /Pages 2 0 R /Lang (\(language)) >>".utf8))
        objects.append(Data("<< /Type /Pages /Kids [\(pageIds.map { "\($0) 0 R" }.joined(separator: " "))] /Count \(pages.count) >>".utf8))
        objects.append(Data("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".utf8))
        objects.append(Data("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>".utf8))
        var info = Data("<< /Title (".utf8)
        info.append(Self.escaped(title))
        info.append(Data(") /Producer (Amtsweg) >>".utf8))
        objects.append(info)
        for (index, page) in pages.enumerated() {
            var stream = Data()
            var y = 786.0
            for line in page {
                y -= line.size * 1.4 + line.gapBefore
                stream.append(Data("BT /\(line.bold ? "F2" : "F1") \(line.size) Tf 56 \(String(format: "%.1f", y)) Td (".utf8))
                stream.append(Self.escaped(line.text))
                stream.append(Data(") Tj ET\n".utf8))
            }
            objects.append(Data("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents \(pageIds[index] + 1) 0 R >>".utf8))
            var content = Data("<< /Length \(stream.count) >>\nstream\n".utf8)
            content.append(stream)
            content.append(Data("endstream".utf8))
            objects.append(content)
        }
        var output = Data("%PDF-1.4\n%\u{E2}\u{E3}\u{CF}\u{D3}\n".utf8)
        var offsets: [Int] = []
        for (index, object) in objects.enumerated() {
            offsets.append(output.count)
            output.append(Data("\(index + 1) 0 obj\n".utf8))
            output.append(object)
            output.append(Data("\nendobj\n".utf8))
        }
        let xref = output.count
        output.append(Data("xref\n0 \(objects.count + 1)\n0000000000 65535 f \n".utf8))
        for offset in offsets { output.append(Data(String(format: "%010d 00000 n \n", offset).utf8)) }
        output.append(Data("trailer\n<< /Size \(objects.count + 1) /Root 1 0 R /Info 5 0 R >>\nstartxref\n\(xref)\n%%EOF\n".utf8))
        return output
    }

    /// Text as a WinAnsi PDF string body: `\`, `(` and `)` escaped, unknown characters as `?`.
    static func escaped(_ text: String) -> Data {
        var bytes: [UInt8] = []
        for scalar in text.unicodeScalars {
            let byte: UInt8
            switch scalar.value {
            case 0x20...0x7E, 0xA0...0xFF: byte = UInt8(scalar.value)
            case 0x20AC: byte = 0x80
            case 0x201E: byte = 0x84
            case 0x2013: byte = 0x96
            case 0x2014: byte = 0x97
            case 0x201C: byte = 0x93
            case 0x201D: byte = 0x94
            case 0x2019: byte = 0x92
            default: byte = 0x3F
            }
            if byte == 0x5C || byte == 0x28 || byte == 0x29 { bytes.append(0x5C) }
            bytes.append(byte)
        }
        return Data(bytes)
    }
}
