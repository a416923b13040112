import Foundation

/// Writes a ZIP archive (PKWARE APPNOTE 6.3) in memory with entries stored uncompressed and UTF-8 names.
///
/// Hand-written because the mirror's ZIPFoundation needs the system zlib on Linux, which `scripts/start.sh` would
/// then have to install; exports hold PDFs, images and small JSON, which gain little from compression.
struct ZipWriter {
    private var body = Data()
    private var central = Data()
    private var count = 0
    private var names = Set<String>()

    /// Adds a file; a name used twice gets " (2)" before its extension. Returns the name it was stored under.
    @discardableResult
    mutating func add(_ name: String, _ data: Data, modified: Date = Date()) -> String {
        var unique = name, number = 2
        while names.contains(unique) {
            let url = URL(fileURLWithPath: name)
            let ext = url.pathExtension
            let stem = ext.isEmpty ? name : String(name.dropLast(ext.count + 1))
            unique = ext.isEmpty ? "\(stem) (\(number))" : "\(stem) (\(number)).\(ext)"
            number += 1
        }
        names.insert(unique)
        let nameBytes = Data(unique.utf8)
        let crc = Self.crc32(data)
        let (time, day) = Self.dosDateTime(modified)
        let offset = UInt32(body.count)
        // Local file header.
        body.append(le32: 0x0403_4B50); body.append(le16: 20); body.append(le16: 0x0800); body.append(le16: 0)
        body.append(le16: time); body.append(le16: day); body.append(le32: crc)
        body.append(le32: UInt32(data.count)); body.append(le32: UInt32(data.count))
        body.append(le16: UInt16(nameBytes.count)); body.append(le16: 0)
        body.append(nameBytes); body.append(data)
        // Central directory entry.
        central.append(le32: 0x0201_4B50); central.append(le16: 20); central.append(le16: 20); central.append(le16: 0x0800); central.append(le16: 0)
        central.append(le16: time); central.append(le16: day); central.append(le32: crc)
        central.append(le32: UInt32(data.count)); central.append(le32: UInt32(data.count))
        central.append(le16: UInt16(nameBytes.count)); central.append(le16: 0); central.append(le16: 0)
        central.append(le16: 0); central.append(le16: 0); central.append(le32: 0); central.append(le32: offset)
        central.append(nameBytes)
        count += 1
        return unique
    }

    /// The finished archive.
    func archive() -> Data {
        var result = body
        result.append(central)
        result.append(le32: 0x0605_4B50); result.append(le16: 0); result.append(le16: 0)
        result.append(le16: UInt16(count)); result.append(le16: UInt16(count))
        result.append(le32: UInt32(central.count)); result.append(le32: UInt32(body.count)); result.append(le16: 0)
        return result
    }

    /// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320).
    static func crc32(_ data: Data) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
        }
        return ~crc
    }

    /// MS-DOS time and date fields, in German civil time.
    static func dosDateTime(_ date: Date) -> (UInt16, UInt16) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Berlin") ?? .gmt
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let time = UInt16((c.hour ?? 0) << 11 | (c.minute ?? 0) << 5 | (c.second ?? 0) / 2)
        let day = UInt16(max(0, (c.year ?? 1980) - 1980) << 9 | (c.month ?? 1) << 5 | (c.day ?? 1))
        return (time, day)
    }
}

extension Data {
    mutating func append(le16 value: UInt16) { Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) } }
    mutating func append(le32 value: UInt32) { Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) } }
}
