import AmtswegCore
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1

/// A parsed HTML form post: text values by name, files by name.
public struct FormData: Sendable {
    /// Text fields (the last value wins for repeated names).
    public var values: [String: String] = [:]
    /// File fields.
    public var files: [String: UploadedFile] = [:]

    /// Largest urlencoded form body accepted.
    public static let maxURLEncodedBytes = 64 * 1024
    /// Largest multipart body accepted (one 5 MB upload plus text).
    public static let maxMultipartBytes = 6 * 1024 * 1024

    /// Parses `application/x-www-form-urlencoded` text; names or values that are not valid percent-encoded UTF-8 are
    /// dropped (names) or read as empty (values), as before.
    public static func parseURLEncoded(_ text: String) -> FormData {
        var form = FormData()
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBufferPointer { buffer in
            var start = 0
            while start <= buffer.count {
                var end = start
                while end < buffer.count && buffer[end] != UInt8(ascii: "&") { end += 1 }
                if end > start {
                    var equals = start
                    while equals < end && buffer[equals] != UInt8(ascii: "=") { equals += 1 }
                    if let name = decodeComponent(buffer, start, equals) {
                        form.values[name] = equals < end ? decodeComponent(buffer, equals + 1, end) ?? "" : ""
                    }
                }
                start = end + 1
            }
        }
        return form
    }

    /// Decodes `+` and `%XX` of bytes `start..<end` into UTF-8 text, in place; nil when the escapes or the UTF-8 are broken.
    private static func decodeComponent(_ buffer: UnsafeMutableBufferPointer<UInt8>, _ start: Int, _ end: Int) -> String? {
        // Decoding never grows the text, so the decoded bytes overwrite the encoded ones from `start` on.
        var read = start, write = start
        while read < end {
            let byte = buffer[read]
            if byte == UInt8(ascii: "%") {
                guard read + 2 < end, let high = hexValue(buffer[read + 1]), let low = hexValue(buffer[read + 2]) else { return nil }
                buffer[write] = high << 4 | low
                read += 3
            } else {
                buffer[write] = byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte
                read += 1
            }
            write += 1
        }
        return String(validating: UnsafeBufferPointer(rebasing: buffer[start..<write]), as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Reads and parses the body of `request` by its content type, enforcing the size limits (413 beyond them).
    public static func read(_ request: inout Request) async throws -> FormData {
        let contentType = request.headers[.contentType] ?? ""
        if contentType.lowercased().hasPrefix("multipart/form-data") {
            guard let boundary = boundary(in: contentType) else { throw HTTPError(.badRequest) }
            let body = try await request.collectBody(upTo: maxMultipartBytes)
            return try parseMultipart(body, boundary: boundary)
        }
        guard contentType.isEmpty || contentType.lowercased().hasPrefix("application/x-www-form-urlencoded") else {
            throw HTTPError(.unsupportedMediaType)
        }
        let body = try await request.collectBody(upTo: maxURLEncodedBytes)
        return parseURLEncoded(String(buffer: body))
    }

    /// The boundary parameter of a multipart content type.
    static func boundary(in contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let trimmed = parameter.trimmingCharacters(in: .whitespaces)
            if trimmed.lowercased().hasPrefix("boundary=") {
                let value = trimmed.dropFirst("boundary=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                return value.isEmpty || value.count > 200 ? nil : value
            }
        }
        return nil
    }

    /// Parses a `multipart/form-data` body; parts without a name are ignored; a malformed body is a 400.
    public static func parseMultipart(_ body: ByteBuffer, boundary: String) throws -> FormData {
        let parts: [MultipartBody.Part]
        do {
            parts = try MultipartBody.parse(Data(buffer: body), boundary: boundary)
        } catch {
            throw HTTPError(.badRequest)
        }
        var form = FormData()
        for part in parts {
            guard let disposition = part.headers["content-disposition"] else { continue }
            let attributes = dispositionAttributes(disposition)
            guard let name = attributes["name"] else { continue }
            if let filename = attributes["filename"] {
                form.files[name] = UploadedFile(filename: sanitisedFilename(filename), data: part.body)
            } else {
                form.values[name] = String(decoding: part.body, as: UTF8.self)
            }
        }
        return form
    }

    static func dispositionAttributes(_ header: String) -> [String: String] {
        var result: [String: String] = [:]
        for item in header.split(separator: ";").dropFirst() {
            let pair = item.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let key = pair[0].trimmingCharacters(in: .whitespaces).lowercased()
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            result[key] = value
        }
        return result
    }

    /// A display-only file name: no path, no control characters, at most 120 characters.
    static func sanitisedFilename(_ name: String) -> String {
        let base = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let cleaned = String(base.unicodeScalars.filter { !$0.properties.isDefaultIgnorableCodePoint && $0.properties.generalCategory != .control }.map(Character.init))
        return String(cleaned.prefix(120))
    }
}
