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
