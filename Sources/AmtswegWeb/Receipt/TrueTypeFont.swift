import Foundation

/// A TrueType font read far enough to lay out text and embed it in a PDF: Unicode → glyph (cmap 4/12), advance
/// widths, metrics, and a subset that keeps every glyph slot but only the outlines of the glyphs used.
struct TrueTypeFont: Sendable {
    /// Why a font file was refused.
    struct Invalid: Error, CustomStringConvertible { let description: String }

    let bytes: [UInt8]
    let tables: [String: (offset: Int, length: Int)]
    let unitsPerEm: Int
    let boundingBox: (Int, Int, Int, Int)
    let ascender: Int
    let descender: Int
    let capHeight: Int
    let italicAngle: Double
    let numGlyphs: Int
    let postScriptName: String
    private let advances: [UInt16]
    private let glyphOffsets: [Int]
    private let unicodeToGlyph: [UInt32: UInt16]

    /// Reads a TrueType (glyf) font.
    init(data: Data) throws {
        let b = [UInt8](data)
        bytes = b
        func u16(_ o: Int) -> Int { o + 1 < b.count ? Int(b[o]) << 8 | Int(b[o + 1]) : 0 }
        func s16(_ o: Int) -> Int { Int(Int16(bitPattern: UInt16(u16(o)))) }
        func u32(_ o: Int) -> Int { u16(o) << 16 | u16(o + 2) }
        guard b.count > 12, u32(0) == 0x0001_0000 || u32(0) == 0x7472_7565 else { throw Invalid(description: "not a TrueType font") }
        var tables: [String: (Int, Int)] = [:]
        for index in 0..<u16(4) {
            let entry = 12 + index * 16
            let tag = String(decoding: b[entry..<entry + 4], as: UTF8.self)
            let offset = u32(entry + 8), length = u32(entry + 12)
            guard offset + length <= b.count else { throw Invalid(description: "table \(tag) outside the file") }
            tables[tag] = (offset, length)
        }
        for tag in ["head", "hhea", "maxp", "hmtx", "loca", "glyf"] where tables[tag] == nil {
            throw Invalid(description: "table \(tag) missing")
        }
        self.tables = tables
        let head = tables["head"]!.0, hhea = tables["hhea"]!.0
        unitsPerEm = u16(head + 18)
        boundingBox = (s16(head + 36), s16(head + 38), s16(head + 40), s16(head + 42))
        let longLoca = s16(head + 50) == 1
        ascender = s16(hhea + 4)
        descender = s16(hhea + 6)
        numGlyphs = u16(tables["maxp"]!.0 + 4)
        let metrics = max(1, u16(hhea + 34))
        let hmtx = tables["hmtx"]!.0
        var advances: [UInt16] = []
        for glyph in 0..<numGlyphs { advances.append(UInt16(u16(hmtx + min(glyph, metrics - 1) * 4))) }
        self.advances = advances
        let loca = tables["loca"]!.0
        glyphOffsets = (0...numGlyphs).map { longLoca ? u32(loca + $0 * 4) : u16(loca + $0 * 2) * 2 }
        if let os2 = tables["OS/2"]?.0, u16(os2) >= 2 { capHeight = s16(os2 + 88) } else { capHeight = ascender }
        if let post = tables["post"]?.0 { italicAngle = Double(s16(post + 4)) + Double(u16(post + 6)) / 65536 } else { italicAngle = 0 }
        var name = "Font"
        if let table = tables["name"]?.0 {
            let count = u16(table + 2), strings = table + u16(table + 4)
            for index in 0..<count {
                let record = table + 6 + index * 12
                guard u16(record + 6) == 6 else { continue }
                let length = u16(record + 8), offset = strings + u16(record + 10)
                let raw = b[offset..<min(b.count, offset + length)]
                name = u16(record) == 3 ? String(decoding: stride(from: raw.startIndex, to: raw.endIndex - 1, by: 2).map { UInt16(raw[$0]) << 8 | UInt16(raw[$0 + 1]) }, as: UTF16.self)
                    : String(decoding: raw, as: UTF8.self)
                if u16(record) == 3 { break }
            }
        }
        postScriptName = String(name.unicodeScalars.filter { $0.isASCII && $0.value > 32 && !"()<>[]{}/%".unicodeScalars.contains($0) })
        // A subset (as embedded) has no cmap: glyphs are addressed by id there.
        unicodeToGlyph = tables["cmap"].map { Self.readCmap(b, at: $0.0, u16: u16, u32: u32) } ?? [:]
    }

    private static func readCmap(_ b: [UInt8], at cmap: Int, u16: (Int) -> Int, u32: (Int) -> Int) -> [UInt32: UInt16] {
        var best: (format: Int, offset: Int)?
        for index in 0..<u16(cmap + 2) {
            let record = cmap + 4 + index * 8
            let platform = u16(record), encoding = u16(record + 2), offset = cmap + u32(record + 4)
            let format = u16(offset)
            // Windows full Unicode (format 12) wins over the BMP table (format 4).
            if platform == 3, encoding == 10, format == 12 { best = (12, offset) }
            if platform == 3, encoding == 1, format == 4, best == nil { best = (4, offset) }
            if platform == 0, format == 4, best == nil { best = (4, offset) }
        }
        var map: [UInt32: UInt16] = [:]
        guard let best else { return map }
        if best.format == 12 {
            for group in 0..<u32(best.offset + 12) {
                let entry = best.offset + 16 + group * 12
                let start = u32(entry), end = u32(entry + 4), glyph = u32(entry + 8)
                guard end >= start, end - start < 0x11_0000 else { continue }
                for code in start...end { map[UInt32(code)] = UInt16(truncatingIfNeeded: glyph + code - start) }
            }
        } else {
            let segments = u16(best.offset + 6) / 2
            let ends = best.offset + 14, starts = ends + segments * 2 + 2, deltas = starts + segments * 2, ranges = deltas + segments * 2
            for segment in 0..<segments {
                let end = u16(ends + segment * 2), start = u16(starts + segment * 2)
                let delta = u16(deltas + segment * 2), rangeOffset = u16(ranges + segment * 2)
                guard start <= end, end != 0xFFFF || start != 0xFFFF else { continue }
                for code in start...end {
                    var glyph: Int
                    if rangeOffset == 0 { glyph = (code + delta) & 0xFFFF } else {
                        let address = ranges + segment * 2 + rangeOffset + (code - start) * 2
                        glyph = u16(address)
                        if glyph != 0 { glyph = (glyph + delta) & 0xFFFF }
                    }
                    if glyph != 0 { map[UInt32(code)] = UInt16(glyph) }
                }
            }
        }
        return map
    }

    /// The glyph of a character (0, the .notdef glyph, when the font has none).
    func glyph(_ scalar: Unicode.Scalar) -> UInt16 { unicodeToGlyph[scalar.value] ?? 0 }

    /// A glyph's advance width in thousandths of the font size.
    func width(_ glyph: UInt16) -> Double {
        Double(advances[min(Int(glyph), advances.count - 1)]) * 1000 / Double(unitsPerEm)
    }

    /// The width of `text` at `size` points.
    func width(of text: String, size: Double) -> Double {
        text.unicodeScalars.reduce(0) { $0 + width(glyph($1)) } * size / 1000
    }

    /// The font file with only the outlines of `glyphs` (and the glyphs composites refer to); every other glyph slot
    /// is empty, so glyph ids stay the same. Tables a PDF needs only: head, hhea, maxp, hmtx, loca, glyf, cvt, fpgm, prep.
    func subset(_ glyphs: Set<UInt16>) -> Data {
        var keep = glyphs.union([0])
        var queue = Array(keep)
        let glyf = tables["glyf"]!.offset
        while let glyph = queue.popLast() {
            let start = glyf + glyphOffsets[Int(glyph)], end = glyf + glyphOffsets[Int(glyph) + 1]
            guard end - start > 10, Int16(bitPattern: UInt16(bytes[start]) << 8 | UInt16(bytes[start + 1])) < 0 else { continue }
            // A composite glyph: follow its components.
            var offset = start + 10
            while offset + 4 <= end {
                let flags = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
                let component = UInt16(bytes[offset + 2]) << 8 | UInt16(bytes[offset + 3])
                if keep.insert(component).inserted { queue.append(component) }
                offset += 4 + (flags & 0x0001 != 0 ? 4 : 2)
                if flags & 0x0008 != 0 { offset += 2 } else if flags & 0x0040 != 0 { offset += 4 } else if flags & 0x0080 != 0 { offset += 8 }
                if flags & 0x0020 == 0 { break }
            }
        }
        var glyphData: [UInt8] = []
        var loca: [UInt8] = []
        for glyph in 0..<numGlyphs {
            loca.append(contentsOf: Self.be32(glyphData.count))
            if keep.contains(UInt16(glyph)) {
                glyphData.append(contentsOf: bytes[(glyf + glyphOffsets[glyph])..<(glyf + glyphOffsets[glyph + 1])])
                while glyphData.count % 4 != 0 { glyphData.append(0) }
            }
        }
        loca.append(contentsOf: Self.be32(glyphData.count))
        var head = Array(table("head"))
        head[50] = 0; head[51] = 1  // long loca offsets
        head[8] = 0; head[9] = 0; head[10] = 0; head[11] = 0  // checkSumAdjustment, set below
        var output: [(String, [UInt8])] = [("head", head), ("hhea", Array(table("hhea"))), ("maxp", Array(table("maxp"))),
                                           ("hmtx", Array(table("hmtx"))), ("loca", loca), ("glyf", glyphData)]
        for tag in ["cvt ", "fpgm", "prep"] where tables[tag] != nil { output.append((tag, Array(table(tag)))) }
        output.sort { $0.0 < $1.0 }
        var file: [UInt8] = [0, 1, 0, 0] + Self.be16(output.count)
        var power = 1, log = 0
        while power * 2 <= output.count { power *= 2; log += 1 }
        file += Self.be16(power * 16) + Self.be16(log) + Self.be16(output.count * 16 - power * 16)
        var offset = 12 + output.count * 16
        var directory: [UInt8] = [], body: [UInt8] = []
        var headOffset = 0
        for (tag, data) in output {
            if tag == "head" { headOffset = offset }
            directory += Array(tag.utf8) + Self.be32(Self.checksum(data)) + Self.be32(offset) + Self.be32(data.count)
            body += data
            let padding = (4 - data.count % 4) % 4
            body += [UInt8](repeating: 0, count: padding)
            offset += data.count + padding
        }
        file += directory + body
        let adjustment = (0xB1B0_AFBA &- UInt32(truncatingIfNeeded: Self.checksum(file))) & 0xFFFF_FFFF
        file.replaceSubrange((headOffset + 8)..<(headOffset + 12), with: Self.be32(Int(adjustment)))
        return Data(file)
    }

    private func table(_ tag: String) -> ArraySlice<UInt8> {
        let (offset, length) = tables[tag]!
        return bytes[offset..<offset + length]
    }

    private static func be16(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
    private static func be32(_ value: Int) -> [UInt8] { [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }

    /// The TrueType table checksum (sum of big-endian 32-bit words, zero-padded).
    static func checksum(_ data: [UInt8]) -> Int {
        var sum: UInt32 = 0
        var index = 0
        while index < data.count {
            var word: UInt32 = 0
            for byte in 0..<4 { word = word << 8 | UInt32(index + byte < data.count ? data[index + byte] : 0) }
            sum = sum &+ word
            index += 4
        }
        return Int(sum)
    }
}
