import AmtswegCore
import Crypto
import CryptoExtras
import Foundation
import PropertyBased
import SwiftASN1
import Testing
import X509
@testable import AmtswegWeb

/// A small PKI made in the test: a root, and leaf certificates for keys, as the Verwaltungs-PKI issues them.
struct TestPKI {
    let rootKey: _RSA.Signing.PrivateKey
    let root: Certificate
    static let leafKeyPEM = try! _RSA.Signing.PrivateKey(keySize: .bits4096).pemRepresentation

    init(name: String = "Test-Root") throws {
        rootKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let subject = try DistinguishedName { CommonName(name) }
        root = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(rootKey.publicKey), notValidBefore: Date().addingTimeInterval(-3600),
            notValidAfter: Date().addingTimeInterval(86400 * 365), issuer: subject, subject: subject, signatureAlgorithm: .sha256WithRSAEncryption,
            extensions: try .init { Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil)); KeyUsage(keyCertSign: true) },
            issuerPrivateKey: .init(rootKey))
    }

    /// A leaf certificate for `key`, valid from `from` to `until`.
    func leaf(for key: _RSA.Signing.PublicKey, from: Date = Date().addingTimeInterval(-60), until: Date = Date().addingTimeInterval(86400)) throws -> Certificate {
        try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key), notValidBefore: from, notValidAfter: until,
            issuer: root.subject, subject: try DistinguishedName { CommonName("Zustellpunkt") }, signatureAlgorithm: .sha256WithRSAEncryption,
            extensions: try .init { Critical(BasicConstraints.notCertificateAuthority) }, issuerPrivateKey: .init(rootKey))
    }

    /// A JWK of `key` with `chain` as x5c.
    static func jwk(_ key: _RSA.Signing.PublicKey, alg: String = "RSA-OAEP-256", ops: [String] = ["wrapKey"], chain: [Certificate]) throws -> PublicJWK {
        let der = try chain.map { certificate -> String in
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            return Data(serializer.serializedBytes).base64EncodedString()
        }
        let primitives = try key.getKeyPrimitives()
        return PublicJWK(kty: "RSA", kid: "k1", alg: alg, key_ops: ops, n: primitives.modulus.base64URLEncoded,
                         e: primitives.publicExponent.base64URLEncoded, x5c: der)
    }
}

@Suite("Destination keys: FIT-Connect's rules and the x5c chain")
struct DestinationKeysTests {
    @Test("a 4096-bit wrapKey key certified by the trusted root is accepted; everything else is refused with a reason")
    func chainRules() async throws {
        let pki = try TestPKI(), stranger = try TestPKI(name: "Fremde Root")
        let key = try _RSA.Signing.PrivateKey(pemRepresentation: TestPKI.leafKeyPEM).publicKey
        let trust = DestinationKeys(roots: [pki.root])
        let good = try TestPKI.jwk(key, chain: [try pki.leaf(for: key), pki.root])
        #expect(try await trust.verifyChain(good, use: .encryption) == key.derRepresentation)
        _ = try await trust.encryptionKey(good)

        func refusal(_ jwk: PublicJWK, use: DestinationKeys.Use = .encryption) async -> KeyProblem? {
            do { _ = try await trust.verifyChain(jwk, use: use); return nil } catch { return error as? KeyProblem }
        }
        #expect(await refusal(try TestPKI.jwk(key, chain: [try stranger.leaf(for: key), stranger.root])) == .untrusted)
        let other = try _RSA.Signing.PrivateKey(keySize: .bits2048).publicKey
        #expect(await refusal(try TestPKI.jwk(key, chain: [try pki.leaf(for: other), pki.root])) == .keyMismatch)
        #expect(await refusal(try TestPKI.jwk(other, chain: [try pki.leaf(for: other), pki.root])) == .tooShort(2048))
        #expect(await refusal(try TestPKI.jwk(key, alg: "RSA1_5", chain: [try pki.leaf(for: key)])) == .wrongAlgorithm)
        #expect(await refusal(try TestPKI.jwk(key, ops: ["encrypt"], chain: [try pki.leaf(for: key)])) == .wrongUse)
        #expect(await refusal(try TestPKI.jwk(key, chain: [])) == .noChain)
        #expect(await refusal(good, use: .signature) == .wrongAlgorithm, "an encryption key is no signature key")
        let expired = try pki.leaf(for: key, from: Date().addingTimeInterval(-7200), until: Date().addingTimeInterval(-3600))
        #expect(await refusal(try TestPKI.jwk(key, chain: [expired, pki.root])) == .untrusted)
        let signing = try TestPKI.jwk(key, alg: "PS512", ops: ["verify"], chain: [try pki.leaf(for: key), pki.root])
        #expect(await refusal(signing, use: .signature) == nil)
    }

    @Test("property: JWKs with arbitrary fields are refused without crashing")
    func arbitraryJWKs() async {
        let text = Gen.element(of: Array("AQABaz09-_=+/ .")).array(of: 0...700).map { String($0.compactMap { $0 }) }
        let words = Gen.element(of: ["RSA", "EC", "oct", "", "RSA-OAEP-256", "PS512", "wrapKey", "verify"])
        await propertyCheck(count: 200, input: words, words, text, text) { kty, alg, n, e in
            let jwk = PublicJWK(kty: kty ?? "", kid: nil, alg: alg, key_ops: alg.map { [$0] }, n: n, e: e, x5c: [n])
            #expect(throws: KeyProblem.self) { try DestinationKeys.checkedNumbers(jwk, use: .encryption) }
            let trust = DestinationKeys(roots: [])
            await #expect(throws: (any Error).self) { try await trust.verifyChain(jwk, use: .signature) }
        }
    }
}
