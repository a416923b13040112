import Crypto
import CryptoExtras
import Foundation
import PropertyBased
import Testing
@testable import AmtswegCore

/// Keys made once (RSA 4096 generation takes a while), kept as PEM text because the key types are not Sendable.
enum TestKeys {
    static let encryptionPEM = try! _RSA.Encryption.PrivateKey(keySize: .bits4096).pemRepresentation
    static let signingPEM = try! _RSA.Signing.PrivateKey(keySize: .bits4096).pemRepresentation
    static let otherSigningPEM = try! _RSA.Signing.PrivateKey(keySize: .bits2048).pemRepresentation
    static var encryption: _RSA.Encryption.PrivateKey { try! .init(pemRepresentation: encryptionPEM) }
    static var signing: _RSA.Signing.PrivateKey { try! .init(pemRepresentation: signingPEM) }
    static var otherSigning: _RSA.Signing.PrivateKey { try! .init(pemRepresentation: otherSigningPEM) }

    /// A compact PS512 JWS over `claims` with `header`.
    static func sign(header: [String: Any], claims: [String: Any], key: _RSA.Signing.PrivateKey = signing) throws -> String {
        let input = try JSONSerialization.data(withJSONObject: header).base64URLEncoded + "." + JSONSerialization.data(withJSONObject: claims).base64URLEncoded
        let signature = try key.signature(for: SHA512.hash(data: Data(input.utf8)), padding: .PSS)
        return input + "." + signature.rawRepresentation.base64URLEncoded
    }
}

@Suite("JOSE: JWE, JWS and SETs as FIT-Connect uses them")
struct JOSETests {
    @Test("a JWE round-trips, names its algorithms and key, and a new content key and IV is used every time")
    func jweRoundTrip() throws {
        let plaintext = Data(#"{"antrag":"Geburtsurkunde","kopien":2}"#.utf8)
        let one = try JWE.encrypt(plaintext, to: TestKeys.encryption.publicKey, kid: "key-1", contentType: "application/json")
        let two = try JWE.encrypt(plaintext, to: TestKeys.encryption.publicKey, kid: "key-1", contentType: "application/json")
        #expect(one != two)
        let parsed = try JWE.parse(one)
        #expect(parsed.header == JWE.Header(kid: "key-1", cty: "application/json") && parsed.encryptedKey.count == 512)
        let (header, opened) = try JWE.decrypt(one, with: TestKeys.encryption)
        #expect(header.kid == "key-1" && opened == plaintext)
        #expect(JWE.authenticationTag(of: one) == one.split(separator: ".").last.map(String.init))
        #expect(one.count >= 776, "FIT-Connect's minimum JWE length")
    }

    @Test("JWE parsing refuses other algorithms, compression and wrong part counts")
    func jweRefusals() throws {
        let valid = try JWE.encrypt(Data("x".utf8), to: TestKeys.encryption.publicKey, kid: "k", contentType: nil)
        let parts = valid.split(separator: ".").map(String.init)
        func with(header: [String: String]) throws -> String {
            ([try JSONSerialization.data(withJSONObject: header).base64URLEncoded] + parts.dropFirst()).joined(separator: ".")
        }
        #expect(throws: JWE.Failure.unsupportedHeader) { try JWE.parse(try with(header: ["alg": "RSA1_5", "enc": "A256GCM", "kid": "k"])) }
        #expect(throws: JWE.Failure.unsupportedHeader) { try JWE.parse(try with(header: ["alg": "RSA-OAEP-256", "enc": "A128CBC-HS256", "kid": "k"])) }
        #expect(throws: JWE.Failure.unsupportedHeader) { try JWE.parse(try with(header: ["alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "k", "zip": "DEF"])) }
        #expect(throws: JWE.Failure.malformed) { try JWE.parse(parts.dropLast().joined(separator: ".")) }
        #expect(throws: JWE.Failure.malformed) { try JWE.parse(valid + "=") }
        // A header swapped for another valid one no longer authenticates.
        #expect(throws: JWE.Failure.decryptionFailed) {
            try JWE.decrypt(try with(header: ["alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "other"]), with: TestKeys.encryption)
        }
    }

    @Test("property: any plaintext round-trips; a changed character never yields a different plaintext")
    func jweTampering() async throws {
        await propertyCheck(count: 60, input: Gen.uint8().array(of: 0...600), Gen.int(in: 0...100_000), Gen.letterOrNumber) { bytes, position, replacement in
            let plaintext = Data(bytes)
            guard let jwe = try? JWE.encrypt(plaintext, to: TestKeys.encryption.publicKey, kid: "k", contentType: nil) else {
                Issue.record("encryption failed"); return
            }
            #expect((try? JWE.decrypt(jwe, with: TestKeys.encryption).plaintext) == plaintext)
            var characters = Array(jwe)
            let index = position % characters.count
            guard characters[index] != ".", characters[index] != replacement else { return }
            characters[index] = replacement
            switch Result(catching: { try JWE.decrypt(String(characters), with: TestKeys.encryption) }) {
            case .success(let opened):
                // Only the unused low bits of a part's last character can change without effect.
                #expect(opened.plaintext == plaintext)
            case .failure(let error):
                #expect(error is JWE.Failure)
            }
        }
    }

    @Test("property: arbitrary text is refused by the JWE, JWS and SET parsers without crashing")
    func parsersRefuseGarbage() async {
        let alphabet = Gen.element(of: Array("abcXYZ019-_.=+/ {}\":,"))
        await propertyCheck(count: 400, input: alphabet.array(of: 0...300)) { characters in
            let text = String(characters.compactMap { $0 })
            #expect(throws: JWE.Failure.self) { try JWE.parse(text) }
            #expect(throws: CompactJWS.Failure.self) { try CompactJWS(compact: text) }
            #expect(throws: SecurityEventToken.Failure.self) { try SecurityEventToken(compact: text) }
        }
    }

    @Test("a SET is read, verifies with the signer's key only, and refuses other algorithms and types")
    func setVerification() throws {
        let claims: [String: Any] = [
            "$schema": "https://schema.fitko.de/fit-connect/events/1.0.0/set-payload.schema.json", "jti": UUID().uuidString,
            "iss": "d-1", "iat": 1_763_700_000, "sub": "submission:s-1", "txn": "case:c-1",
            "events": ["https://schema.fitko.de/fit-connect/events/accept-submission": [
                "authenticationTags": ["metadata": "m", "data": "d", "attachments": ["a-1": "t"]]]],
        ]
        let header: [String: Any] = ["alg": "PS512", "typ": "secevent+jwt", "kid": "sig-1"]
        let token = try SecurityEventToken(compact: try TestKeys.sign(header: header, claims: claims))
        #expect(token.eventName == "accept-submission" && token.issuer == "d-1" && token.subject == "submission:s-1" && token.kid == "sig-1")
        #expect(token.event.authenticationTags == .init(metadata: "m", data: "d", attachments: ["a-1": "t"]))
        try token.verify(with: TestKeys.signing.publicKey.derRepresentation)
        #expect(throws: SecurityEventToken.Failure.badSignature) { try token.verify(with: TestKeys.otherSigning.publicKey.derRepresentation) }
        var rs512 = header; rs512["alg"] = "RS512"
        #expect(throws: SecurityEventToken.Failure.unsupportedHeader) { try SecurityEventToken(compact: try TestKeys.sign(header: rs512, claims: claims)) }
        var none = header; none["alg"] = "none"
        #expect(throws: SecurityEventToken.Failure.unsupportedHeader) { try SecurityEventToken(compact: try TestKeys.sign(header: none, claims: claims)) }
        var jwt = header; jwt["typ"] = "JWT"
        #expect(throws: SecurityEventToken.Failure.unsupportedHeader) { try SecurityEventToken(compact: try TestKeys.sign(header: jwt, claims: claims)) }
        var twoEvents = claims
        twoEvents["events"] = ["https://schema.fitko.de/fit-connect/events/a": [:], "https://schema.fitko.de/fit-connect/events/b": [:]]
        #expect(throws: SecurityEventToken.Failure.malformed) { try SecurityEventToken(compact: try TestKeys.sign(header: header, claims: twoEvents)) }
    }

    @Test("property: a SET whose claims changed after signing does not verify")
    func setTampering() async throws {
        let header: [String: Any] = ["alg": "PS512", "typ": "secevent+jwt", "kid": "sig-1"]
        await propertyCheck(count: 40, input: Gen.letterOrNumber.string(of: 1...20)) { submission in
            let claims: [String: Any] = ["iss": "d", "iat": 1, "jti": "j", "sub": "submission:\(submission)",
                                         "events": ["https://schema.fitko.de/fit-connect/events/reject-submission": ["problems": [["title": "x"]]]]]
            guard let signed = try? TestKeys.sign(header: header, claims: claims) else { Issue.record("signing failed"); return }
            let parts = signed.split(separator: ".").map(String.init)
            var forged = claims
            forged["sub"] = "submission:\(submission)x"
            guard let forgedClaims = try? JSONSerialization.data(withJSONObject: forged).base64URLEncoded,
                  let token = try? SecurityEventToken(compact: [parts[0], forgedClaims, parts[2]].joined(separator: "."))
            else { Issue.record("forged SET unreadable"); return }
            #expect(throws: SecurityEventToken.Failure.badSignature) { try token.verify(with: TestKeys.signing.publicKey.derRepresentation) }
        }
    }

    @Test("base64url decoding is strict: no padding, no standard-alphabet characters, no whitespace")
    func base64URL() {
        #expect(Data(base64URLEncoded: "AQAB") == Data([1, 0, 1]))
        #expect(Data(base64URLEncoded: "_-8") == Data([0xFF, 0xEF]))
        #expect(Data(base64URLEncoded: "AQAB=") == nil && Data(base64URLEncoded: "/+8") == nil && Data(base64URLEncoded: "AQ AB") == nil)
        #expect(Data(base64URLEncoded: "A") == nil)
    }
}
