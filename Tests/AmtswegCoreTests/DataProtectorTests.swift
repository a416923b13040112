import Foundation
import Testing
@testable import AmtswegCore

@Suite("Envelope encryption at rest")
struct DataProtectorTests {
    @Test("sealed data opens only with the same master key and tenant")
    func roundTrip() throws {
        let protector = try DataProtector(base64: DataProtector.newMasterKeyBase64())
        let tenant = UUID(), other = UUID()
        let secret = Data("Erika Mustermann, geboren 12.03.1990".utf8)
        let (ciphertext, wrapped) = try protector.seal(secret, tenant: tenant)
        #expect(ciphertext.range(of: Data("Erika".utf8)) == nil)
        #expect(try protector.open(ciphertext, wrappedKey: wrapped, tenant: tenant) == secret)
        #expect(throws: (any Error).self) { try protector.open(ciphertext, wrappedKey: wrapped, tenant: other) }
        let stranger = try DataProtector(base64: DataProtector.newMasterKeyBase64())
        #expect(throws: (any Error).self) { try stranger.open(ciphertext, wrappedKey: wrapped, tenant: tenant) }
        var tampered = ciphertext
        tampered[tampered.count - 1] ^= 1
        #expect(throws: (any Error).self) { try protector.open(tampered, wrappedKey: wrapped, tenant: tenant) }
        #expect(try protector.seal(secret, tenant: tenant).ciphertext != ciphertext, "a fresh data key and nonce every time")
    }

    @Test("master keys must be 32 bytes of base64")
    func badKeys() {
        #expect(throws: DataProtectorError.badMasterKey) { try DataProtector(base64: "c2hvcnQ=") }
        #expect(throws: DataProtectorError.badMasterKey) { try DataProtector(base64: "not base64!") }
    }
}

@Suite("Callback signatures (FIT-Connect format)")
struct CallbackSignatureTests {
    static let secret = "fachverfahren-geheimnis-0123456789abcdef"
    static let body = Data(#"{"a":1}"#.utf8)

    @Test("the signature matches one computed by Python's hmac module, and verification checks age and every byte")
    func signAndVerify() throws {
        // python3: hmac.new(secret, b'1700000000.{"a":1}', hashlib.sha512).hexdigest()
        let expected = "0b19d9b43095e97257bef2c6aad9c5c22358d586eb544ca53cfb2a4a35db5f15ecdff44732266a55ab0b9301604b7704bd25db7357352d2dd4b2b2778a555013"
        #expect(CallbackSignature.sign(body: Self.body, timestamp: 1_700_000_000, secret: Self.secret) == expected)
        try CallbackSignature.verify(body: Self.body, timestampHeader: "1700000000", signatureHeader: expected, secret: Self.secret, now: 1_700_000_100)
        #expect(throws: CallbackSignature.Failure.expired) {
            try CallbackSignature.verify(body: Self.body, timestampHeader: "1700000000", signatureHeader: expected, secret: Self.secret, now: 1_700_000_301)
        }
        #expect(throws: CallbackSignature.Failure.badSignature) {
            try CallbackSignature.verify(body: Data(#"{"a":2}"#.utf8), timestampHeader: "1700000000", signatureHeader: expected, secret: Self.secret, now: 1_700_000_000)
        }
        #expect(throws: CallbackSignature.Failure.badSignature) {
            try CallbackSignature.verify(body: Self.body, timestampHeader: "1700000001", signatureHeader: expected, secret: Self.secret, now: 1_700_000_000)
        }
        #expect(throws: CallbackSignature.Failure.badTimestamp) {
            try CallbackSignature.verify(body: Self.body, timestampHeader: "17e8", signatureHeader: expected, secret: Self.secret)
        }
        #expect(throws: CallbackSignature.Failure.missingHeaders) {
            try CallbackSignature.verify(body: Self.body, timestampHeader: nil, signatureHeader: expected, secret: Self.secret)
        }
    }
}
