import AmtswegCore
import AmtswegStorage
import CryptoExtras
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SwiftASN1
import Testing
import X509
@testable import AmtswegWeb

@Suite("Encrypted pull for specialist systems, and FIT-Connect callbacks")
struct APIEncryptionAndCallbackTests {
    static let callbackSecret = "fitconnect-callback-secret-0123456789abcdef"

    @Test("with a registered key, Accept: application/jose gets a JWE only that key opens; without one it is a 406")
    func encryptedPull() async throws {
        let primitives = try _RSA.Encryption.PrivateKey(pemRepresentation: TestPKI.leafKeyPEM).publicKey.getKeyPrimitives()
        let jwk = #"{"kty":"RSA","kid":"fv-1","alg":"RSA-OAEP-256","key_ops":["wrapKey"],"n":"\#(primitives.modulus.base64URLEncoded)","e":"\#(primitives.publicExponent.base64URLEncoded)"}"#
        let stored = try APIEncryption.validate(jwkJSON: Data(jwk.utf8))
        #expect(throws: APIEncryption.Invalid.self) { try APIEncryption.validate(jwkJSON: Data(jwk.replacingOccurrences(of: "wrapKey", with: "sign").utf8)) }
        try await WebHarness.run { client, portal in
            let privateKey = try _RSA.Encryption.PrivateKey(pemRepresentation: TestPKI.leafKeyPEM)
            let tenant = try #require(try await portal.tenants.find(ars: DemoData.ars))
            let sealed = try await portal.staff.createAPIKey(tenantId: tenant.id, label: "fv", encryptionJWK: stored).key
            let plainKey = try await portal.staff.createAPIKey(tenantId: tenant.id, label: "plain").key
            let (id, _) = try await CaseWorkerAndAPITests.submitOne(client)
            let plain = try await client.execute(uri: "/api/v1/applications/\(id)", method: .get, headers: [.authorization: "Bearer \(sealed)"], body: nil)
            let jose = try await client.execute(uri: "/api/v1/applications/\(id)", method: .get,
                                                headers: [.authorization: "Bearer \(sealed)", .accept: "application/jose"], body: nil)
            #expect(jose.headers[.contentType] == "application/jose")
            let (header, opened) = try JWE.decrypt(String(buffer: jose.body), with: privateKey)
            #expect(header.kid == "fv-1" && header.cty == "application/json" && opened == Data(buffer: plain.body))
            let list = try await client.execute(uri: "/api/v1/applications", method: .get,
                                                headers: [.authorization: "Bearer \(sealed)", .accept: "application/jose"], body: nil)
            #expect(String(decoding: try JWE.decrypt(String(buffer: list.body), with: privateKey).plaintext, as: UTF8.self).contains(id))
            let refused = try await client.execute(uri: "/api/v1/applications/\(id)", method: .get,
                                                   headers: [.authorization: "Bearer \(plainKey)", .accept: "application/jose"], body: nil)
            #expect(refused.status == .notAcceptable && refused.headers[.contentType] == "application/problem+json")
        }
    }

    @Test("a callback must be signed with the secret and fresh; malformed or forged ones are problem details")
    func callbacks() async throws {
        let pki = try TestPKI()
        var settings = try FITConnectSettings(
            tokenURL: "http://127.0.0.1:9/token", submissionURL: "http://127.0.0.1:9", routingURL: "http://127.0.0.1:9/routing",
            clientId: "amtsweg", clientSecret: "geheim", trustRootsPEM: try pki.root.serializeAsPEM().pemString, publicBaseURL: "http://127.0.0.1:8080")
        settings.callbackSecret = Self.callbackSecret
        try await WebHarness.run(fitConnect: settings) { client, _ in
            let body = #"{"type":"https://schema.fitko.de/fit-connect/submission-api/callbacks/new-submissions","submissions":[]}"#
            func post(_ body: String, timestamp: Int64 = Int64(Date().timeIntervalSince1970), secret: String = Self.callbackSecret,
                      signed: Bool = true) async throws -> TestResponse {
                var headers: HTTPFields = [.contentType: "application/json"]
                if signed {
                    headers[HTTPField.Name("callback-timestamp")!] = String(timestamp)
                    headers[HTTPField.Name("callback-authentication")!] = CallbackSignature.sign(body: Data(body.utf8), timestamp: timestamp, secret: secret)
                }
                return try await client.execute(uri: "/api/fitconnect/callback", method: .post, headers: headers, body: ByteBuffer(string: body))
            }
            #expect(try await post(body).status == .ok)
            for refused in [try await post(body, signed: false), try await post(body, secret: "another-secret-of-enough-length-0123456789"),
                            try await post(body, timestamp: Int64(Date().timeIntervalSince1970) - 600)] {
                #expect(refused.status == .unauthorized && refused.headers[.contentType] == "application/problem+json")
            }
            let malformed = try await post(#"{"type":"https://example.org/x"}"#)
            #expect(malformed.status == .badRequest && malformed.headers[.contentType] == "application/problem+json")
        }
        // Without FIT-Connect the route does not exist.
        try await WebHarness.run { client, _ in
            let missing = try await client.execute(uri: "/api/fitconnect/callback", method: .post, headers: [:], body: nil)
            #expect(missing.status == .notFound)
        }
    }
}
