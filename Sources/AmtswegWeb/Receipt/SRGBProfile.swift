import Foundation

/// A small ICC v2 display profile for sRGB (primaries and white point adapted to D50 as ICC requires, tone curves as a
/// 2.2 gamma), built in code: PDF/A needs an output intent with an embedded ICC profile.
enum SRGBProfile {
    /// The profile bytes.
    static let data: Data = build()

    private static func build() -> Data {
        func be32(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
        func be16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
        func s15(_ value: Double) -> [UInt8] { be32(UInt32(bitPattern: Int32((value * 65536).rounded()))) }
        func xyz(_ x: Double, _ y: Double, _ z: Double) -> [UInt8] { Array("XYZ ".utf8) + [0, 0, 0, 0] + s15(x) + s15(y) + s15(z) }
        func text(_ value: String) -> [UInt8] { Array("text".utf8) + [0, 0, 0, 0] + Array(value.utf8) + [0] }
        func desc(_ value: String) -> [UInt8] {
            // textDescriptionType: ASCII, then empty Unicode and ScriptCode parts.
            var bytes = Array("desc".utf8) + [0, 0, 0, 0] + be32(UInt32(value.utf8.count + 1)) + Array(value.utf8) + [0]
            bytes += be32(0) + be32(0) + be16(0) + [0] + [UInt8](repeating: 0, count: 67)
            return bytes
        }
        let curve = Array("curv".utf8) + [0, 0, 0, 0] + be32(1) + be16(0x0233)  // gamma 2.2 as u8Fixed8
        let tags: [(String, [UInt8])] = [
            ("desc", desc("sRGB (Amtsweg)")), ("cprt", text("No copyright, use freely")),
            ("wtpt", xyz(0.9642, 1.0, 0.8249)),
            ("rXYZ", xyz(0.4361, 0.2225, 0.0139)), ("gXYZ", xyz(0.3851, 0.7169, 0.0971)), ("bXYZ", xyz(0.1431, 0.0606, 0.7141)),
            ("rTRC", curve), ("gTRC", curve), ("bTRC", curve),
        ]
        var tagTable = be32(UInt32(tags.count))
        var body: [UInt8] = []
        var offset = 128 + 4 + tags.count * 12
        for (signature, data) in tags {
            tagTable += Array(signature.utf8) + be32(UInt32(offset)) + be32(UInt32(data.count))
            var padded = data
            while padded.count % 4 != 0 { padded.append(0) }
            body += padded
            offset += padded.count
        }
        var header = be32(UInt32(offset)) + [0, 0, 0, 0]  // size, preferred CMM
        header += [0x02, 0x10, 0, 0]  // version 2.1
        header += Array("mntrRGB XYZ ".utf8)
        header += be16(2026) + be16(1) + be16(1) + be16(0) + be16(0) + be16(0)  // date
        header += Array("acsp".utf8) + [0, 0, 0, 0] + be32(0) + [0, 0, 0, 0] + [0, 0, 0, 0]  // platform, flags, manufacturer, model
        header += [UInt8](repeating: 0, count: 8) + be32(0)  // attributes, rendering intent (perceptual)
        header += s15(0.9642) + s15(1.0) + s15(0.8249)  // illuminant D50
        header += [0, 0, 0, 0]  // creator
        header += [UInt8](repeating: 0, count: 128 - header.count)
        return Data(header + tagTable + body)
    }
}
