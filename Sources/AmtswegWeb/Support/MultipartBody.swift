import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A `multipart/form-data` body (RFC 7578) split into its parts. Written here because MultipartKit 4.7.1 crashes
/// (index out of range) on a header name byte ≥ 0x80, which any client could send.
struct MultipartBody {
    /// One part: its headers (names lower-cased) and content.
    struct Part {
        let headers: [String: String]
        let body: Data
    }

    /// Why a body was refused.
    enum Failure: Error, Equatable {
        case noBoundary
        case malformedHeaders
        case unterminated
        case tooManyParts
    }

    /// At most this many parts (a page has far fewer fields).
    static let maxParts = 200
    /// At most this many bytes of headers per part.
    static let maxHeaderBytes = 8 * 1024

    /// Splits `data` at `boundary`; refuses anything that is not a complete, well-formed body.
    static func parse(_ data: Data, boundary: String) throws(Failure) -> [Part] {
        let bytes = [UInt8](data)
        let dashBoundary = Array("--\(boundary)".utf8)
        guard !boundary.isEmpty, boundary.utf8.count <= 70 else { throw .noBoundary }
        // The first delimiter may follow a preamble; every later one is preceded by CRLF.
        guard var position = find(dashBoundary, in: bytes, from: 0),
              position == 0 || (position >= 2 && bytes[position - 2] == 13 && bytes[position - 1] == 10) else {
            throw .noBoundary
        }
        let delimiter = [13, 10] + dashBoundary
        var parts: [Part] = []
        while true {
            position += dashBoundary.count
            if bytes[position...].starts(with: [45, 45]) { return parts }  // "--": the close delimiter
            // Transport padding (spaces, tabs) may follow a delimiter before its CRLF.
            while position < bytes.count, bytes[position] == 32 || bytes[position] == 9 { position += 1 }
            guard bytes[position...].starts(with: [13, 10]) else { throw .unterminated }
            position += 2
            guard parts.count < maxParts else { throw .tooManyParts }
            let headerEnd: Int
            if bytes[position...].starts(with: [13, 10]) {
                headerEnd = position  // no headers at all
            } else {
                guard let end = find([13, 10, 13, 10], in: bytes, from: position), end - position <= maxHeaderBytes else { throw .malformedHeaders }
                headerEnd = end + 2
            }
            let headers = try parseHeaders(bytes[position..<headerEnd])
            let bodyStart = headerEnd + 2
            // An empty body: the delimiter's CRLF follows the blank line at once.
            guard let next = find(delimiter, in: bytes, from: bodyStart) else { throw .unterminated }
            parts.append(Part(headers: headers, body: Data(bytes[bodyStart..<next])))
            position = next + 2
        }
    }

    /// `Name: value` lines; names must be HTTP tokens (ASCII), values are UTF-8.
    static func parseHeaders(_ block: ArraySlice<UInt8>) throws(Failure) -> [String: String] {
        var headers: [String: String] = [:]
        var start = block.startIndex
        while start < block.endIndex {
            var end = start
            while end + 1 < block.endIndex, !(block[end] == 13 && block[end + 1] == 10) { end += 1 }
            if end + 1 >= block.endIndex { end = block.endIndex }
            let line = block[start..<end]
            start = min(block.endIndex, end + 2)
            if line.isEmpty { continue }
            guard let colon = line.firstIndex(of: 58), colon > line.startIndex,
                  line[line.startIndex..<colon].allSatisfy(isTokenByte),
                  let value = String(bytes: line[(colon + 1)...], encoding: .utf8)
            else { throw .malformedHeaders }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self).lowercased()
            headers[name] = value.trimmingCharacters(in: .whitespaces)
        }
        return headers
    }

    /// RFC 9110 token characters.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 48...57, 65...90, 97...122: return true
        case 33, 35, 36, 37, 38, 39, 42, 43, 45, 46, 94, 95, 96, 124, 126: return true
        default: return false
        }
    }

    /// The first index of `needle` in `haystack` at or after `from` (memchr to the next candidate, then memcmp:
    /// uploads are megabytes).
    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        var start = max(0, from)
        guard let first = needle.first, start + needle.count <= haystack.count else { return nil }
        return haystack.withUnsafeBytes { hay in
            needle.withUnsafeBytes { pin in
                let base = hay.baseAddress!
                while start + pin.count <= hay.count {
                    guard let hit = memchr(base + start, Int32(first), hay.count - start - pin.count + 1) else { return nil }
                    let index = base.distance(to: UnsafeRawPointer(hit))
                    if memcmp(base + index, pin.baseAddress!, pin.count) == 0 { return index }
                    start = index + 1
                }
                return nil
            }
        }
    }
}
