import Crypto
import CryptoExtras
import Foundation

/// A compact JSON Web Signature (RFC 7515) signed with PS512 (RSASSA-PSS, SHA-512), as FIT-Connect uses for SETs and
/// routing results. Parsing does not trust it; `verify(with:)` does.
public struct CompactJWS: Sendable, Equatable {
    /// Why a JWS was refused.
    public enum Failure: Error, Equatable, Sendable {
        case malformed
        case unsupportedHeader
        case badSignature
    }

    struct Header: Decodable { let alg: String; let typ: String?; let kid: String? }

    /// The key id the signer names.
    public let kid: String?
    /// The `typ` header, if any.
    public let type: String?
    /// The signed payload.
    public let payload: Data
    let signingInput: Data
    let signature: Data

    /// Splits a compact JWS; only PS512 is accepted.
    public init(compact text: String) throws(Failure) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let headerData = Data(base64URLEncoded: parts[0]), let payload = Data(base64URLEncoded: parts[1]),
              let signature = Data(base64URLEncoded: parts[2]), !signature.isEmpty,
              let header = try? JSONDecoder().decode(Header.self, from: headerData)
        else { throw .malformed }
        // Only the algorithm FIT-Connect prescribes: never "none", never one the attacker chooses.
        guard header.alg == "PS512" else { throw .unsupportedHeader }
        kid = header.kid
        type = header.typ
        self.payload = payload
        signingInput = Data("\(parts[0]).\(parts[1])".utf8)
        self.signature = signature
    }

    /// Checks the signature against `keyDER` (SubjectPublicKeyInfo DER of a verified RSA key).
    public func verify(with keyDER: Data) throws(Failure) {
        guard let key = try? _RSA.Signing.PublicKey(derRepresentation: keyDER),
              key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA512.hash(data: signingInput), padding: .PSS)
        else { throw .badSignature }
    }
}
