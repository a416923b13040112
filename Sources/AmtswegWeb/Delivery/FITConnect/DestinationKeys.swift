import AmtswegCore
import Crypto
import CryptoExtras
import Foundation
import X509

/// A public RSA key as FIT-Connect publishes it (JWK with an x5c chain).
struct PublicJWK: Codable, Equatable, Sendable {
    let kty: String
    let kid: String?
    let alg: String?
    let key_ops: [String]?
    let n: String
    let e: String
    let x5c: [String]?
}

/// Why a destination or signing key is not trusted.
enum KeyProblem: Error, Equatable, CustomStringConvertible {
    case wrongType
    case wrongAlgorithm
    case wrongUse
    case tooShort(Int)
    case noChain
    case untrusted
    case keyMismatch

    var description: String {
        switch self {
        case .wrongType: return "key is not RSA"
        case .wrongAlgorithm: return "key has the wrong algorithm"
        case .wrongUse: return "key_ops do not allow this use"
        case .tooShort(let bits): return "key has \(bits) bits, 4096 required"
        case .noChain: return "key has no x5c certificate chain"
        case .untrusted: return "certificate chain does not lead to a trusted root"
        case .keyMismatch: return "certificate does not hold this key"
        }
    }
}

/// Checks keys the way FIT-Connect requires before anything is encrypted to them or a signature is believed:
/// RSA with 4096 bits, the right algorithm and use, and an x5c chain to one of the configured roots.
struct DestinationKeys: Sendable {
    let roots: [Certificate]

    /// What a key is for.
    enum Use: Sendable {
        /// Encrypting submissions (RSA-OAEP-256, wrapKey).
        case encryption
        /// Verifying SETs (PS512, verify).
        case signature
    }

    /// The modulus and exponent of a JWK, after the type, algorithm, use and length checks.
    static func checkedNumbers(_ jwk: PublicJWK, use: Use) throws(KeyProblem) -> (n: Data, e: Data) {
        guard jwk.kty == "RSA", let n = Data(base64URLEncoded: jwk.n), let e = Data(base64URLEncoded: jwk.e), !e.isEmpty else { throw .wrongType }
        switch use {
        case .encryption:
            guard jwk.alg == "RSA-OAEP-256" else { throw .wrongAlgorithm }
            guard jwk.key_ops?.contains("wrapKey") == true else { throw .wrongUse }
        case .signature:
            guard jwk.alg == "PS512" else { throw .wrongAlgorithm }
            guard jwk.key_ops?.contains("verify") == true else { throw .wrongUse }
        }
        // Leading zero bytes do not count towards the key length.
        let bits = n.drop { $0 == 0 }.count * 8
        guard bits >= 4096 else { throw .tooShort(bits) }
        return (n, e)
    }

    /// Verifies the chain and that its leaf certifies this very key; returns the key's DER (SubjectPublicKeyInfo).
    func verifyChain(_ jwk: PublicJWK, use: Use, now: Date = Date()) async throws -> Data {
        let (n, e) = try Self.checkedNumbers(jwk, use: use)
        guard let chain = jwk.x5c, !chain.isEmpty else { throw KeyProblem.noChain }
        let certificates: [Certificate]
        do {
            certificates = try chain.map { text in
                guard let der = Data(base64Encoded: text) else { throw KeyProblem.noChain }
                return try Certificate(derEncoded: Array(der))
            }
        } catch {
            throw KeyProblem.noChain
        }
        var verifier = Verifier(rootCertificates: CertificateStore(roots)) { RFC5280Policy(validationTime: now) }
        let result = await verifier.validate(leaf: certificates[0], intermediates: CertificateStore(Array(certificates.dropFirst())))
        guard case .validCertificate = result else { throw KeyProblem.untrusted }
        let jwkKey = try _RSA.Signing.PublicKey(n: n, e: e)
        guard let certified = _RSA.Signing.PublicKey(certificates[0].publicKey), certified.derRepresentation == jwkKey.derRepresentation else {
            throw KeyProblem.keyMismatch
        }
        return jwkKey.derRepresentation
    }

    /// The encryption key, once its chain is verified.
    func encryptionKey(_ jwk: PublicJWK, now: Date = Date()) async throws -> _RSA.Encryption.PublicKey {
        try _RSA.Encryption.PublicKey(derRepresentation: try await verifyChain(jwk, use: .encryption, now: now))
    }
}
