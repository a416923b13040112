import Foundation
import Hummingbird
import NIOCore
import PropertyBased
import Testing
@testable import AmtswegWeb

@Suite("multipart/form-data parsing (property-based)")
struct MultipartPropertyTests {
    static let boundary = "----amtswegBoundary7MA4YWxkTrZu0gW"

    /// A multipart body with one text field and one file.
    static func body(name: String, value: String, filename: String, file: [UInt8]) -> [UInt8] {
        var text = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
        text += "--\(boundary)\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"\(filename)\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        var bytes = Array(text.utf8) + file
        bytes += Array("\r\n--\(boundary)--\r\n".utf8)
        return bytes
    }

    @Test("property: text values and file bytes come back exactly, file names without paths")
    func roundTrip() async throws {
        let words = Gen.letterOrNumber.string(of: 1...30)
        let values = Gen.element(of: Array("aäöüßÄ €\"=;:\r\n-é✓")).array(of: 0...80).map { String($0.compactMap { $0 }) }
        await propertyCheck(count: 200, input: words, values, words, Gen.uint8().array(of: 0...3000)) {
            name, value, filename, file in
            let body = Self.body(name: name, value: value, filename: "C:\\Users\\x\\\(filename)", file: file)
            guard let form = try? FormData.parseMultipart(ByteBuffer(bytes: body), boundary: Self.boundary) else {
                Issue.record("a well-formed body was refused"); return
            }
            #expect(form.values[name] == value)
            #expect(form.files["upload"]?.data == Data(file) && form.files["upload"]?.filename == filename)
        }
    }

    @Test("a non-ASCII byte in a header name is a 400 (it crashed MultipartKit 4.7.1); empty parts and preambles are read")
    func edgeCases() throws {
        let crash = Array("--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"a\"\r\nX-\u{00C4}: 1\r\n\r\nv\r\n--\(Self.boundary)--\r\n".utf8)
        #expect(throws: HTTPError.self) { try FormData.parseMultipart(ByteBuffer(bytes: crash), boundary: Self.boundary) }
        let empty = "preamble\r\n--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"e\"\r\n\r\n\r\n--\(Self.boundary)  \r\n"
            + "Content-Disposition: form-data; name=\"f\"; filename=\"Müller.pdf\"\r\n\r\n%PDF\r\n--\(Self.boundary)--"
        let form = try FormData.parseMultipart(ByteBuffer(string: empty), boundary: Self.boundary)
        #expect(form.values == ["e": ""] && form.files["f"]?.filename == "Müller.pdf" && form.files["f"]?.data == Data("%PDF".utf8))
        let unterminated = "--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"e\"\r\n\r\nvalue"
        #expect(throws: HTTPError.self) { try FormData.parseMultipart(ByteBuffer(string: unterminated), boundary: Self.boundary) }
    }

    @Test("property: damaged bodies are parsed or refused with 400, never crash")
    func damaged() async {
        let body = Self.body(name: "field", value: "Wert", filename: "a.pdf", file: Array("%PDF-1.7 test".utf8))
        await propertyCheck(count: 300, input: Gen.int(in: 0...body.count - 1), Gen.int(in: 1...60), Gen.uint8().array(of: 0...20)) {
            start, length, junk in
            var damaged = body
            damaged.replaceSubrange(start..<min(damaged.count, start + length), with: junk)
            do {
                _ = try FormData.parseMultipart(ByteBuffer(bytes: damaged), boundary: Self.boundary)
            } catch let error as HTTPError {
                #expect(error.status == .badRequest)
            } catch {
                Issue.record("unexpected error \(type(of: error))")
            }
        }
    }
}
