import Crypto
import CryptoExtras
import Foundation

/// JSON Web Encryption (RFC 7516) in compact form, restricted to what FIT-Connect uses: key encryption RSA-OAEP-256,
/// content encryption A256GCM, no compression.
public enum JWE {
    /// Why a JWE was refused.
    public enum Failure: Error, Equatable, Sendable {
        /// Not five base64url parts, or a part is not base64url.
        case malformed
        /// The protected header is not a JSON object with the expected algorithms.
        case unsupportedHeader
        /// The content key cannot be unwrapped, or the ciphertext does not authenticate.
        case decryptionFailed
    }

    /// The protected header FIT-Connect expects.
    public struct Header: Codable, Equatable, Sendable {
        public var alg = "RSA-OAEP-256"
        public var enc = "A256GCM"
        public var kid: String
        /// Media type of the plaintext (e.g. application/json, application/pdf).
        public var cty: String?

        /// A header for `kid`, with content type `cty`.
        public init(kid: String, cty: String?) {
            self.kid = kid
            self.cty = cty
        }
    }

    /// A parsed compact JWE.
    public struct Compact: Sendable, Equatable {
        public let header: Header
        public let protectedHeader: String
        public let encryptedKey: Data
        public let iv: Data
        public let ciphertext: Data
        public let tag: Data
        /// The fifth part as sent: FIT-Connect's "authentication tag" in SETs.
        public let tagPart: String
    }

    /// Encrypts `plaintext` to `key` (a fresh 256-bit content key per call) and returns the compact serialization.
    public static func encrypt(_ plaintext: Data, to key: _RSA.Encryption.PublicKey, kid: String, contentType: String?) throws -> String {
        let header = try JSONEncoder.sortedKeys.encode(Header(kid: kid, cty: contentType)).base64URLEncoded
        let contentKey = SymmetricKey(size: .bits256)
        let encryptedKey = try key.encrypt(contentKey.withUnsafeBytes { Data($0) }, padding: .PKCS1_OAEP_SHA256)
        let nonce = AES.GCM.Nonce()
        let sealed = try AES.GCM.seal(plaintext, using: contentKey, nonce: nonce, authenticating: Data(header.utf8))
        return [header, encryptedKey.base64URLEncoded, Data(nonce).base64URLEncoded, sealed.ciphertext.base64URLEncoded,
                sealed.tag.base64URLEncoded].joined(separator: ".")
    }

    /// Splits and checks a compact JWE without decrypting it.
    public static func parse(_ text: String) throws(Failure) -> Compact {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, let headerData = Data(base64URLEncoded: parts[0]), let encryptedKey = Data(base64URLEncoded: parts[1]),
              let iv = Data(base64URLEncoded: parts[2]), let ciphertext = Data(base64URLEncoded: parts[3]),
              let tag = Data(base64URLEncoded: parts[4])
        else { throw .malformed }
        guard let header = try? JSONDecoder().decode(Header.self, from: headerData), header.alg == "RSA-OAEP-256", header.enc == "A256GCM",
              iv.count == 12, tag.count == 16, !encryptedKey.isEmpty
        else { throw .unsupportedHeader }
        // Compression is not supported: a "zip" member makes the header unsupported rather than silently wrong.
        if let object = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any], object["zip"] != nil { throw .unsupportedHeader }
        return Compact(header: header, protectedHeader: parts[0], encryptedKey: encryptedKey, iv: iv, ciphertext: ciphertext, tag: tag, tagPart: parts[4])
    }

    /// Decrypts a compact JWE with `key`.
    public static func decrypt(_ text: String, with key: _RSA.Encryption.PrivateKey) throws(Failure) -> (header: Header, plaintext: Data) {
        let compact = try parse(text)
        do {
            let contentKey = try key.decrypt(compact.encryptedKey, padding: .PKCS1_OAEP_SHA256)
            guard contentKey.count == 32 else { throw Failure.decryptionFailed }
            let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: compact.iv), ciphertext: compact.ciphertext, tag: compact.tag)
            return (compact.header, try AES.GCM.open(box, using: SymmetricKey(data: contentKey), authenticating: Data(compact.protectedHeader.utf8)))
        } catch {
            throw .decryptionFailed
        }
    }

    /// The authentication tag (fifth part) of a compact JWE, as SETs carry it.
    public static func authenticationTag(of text: String) -> String {
        String(text.split(separator: ".", omittingEmptySubsequences: false).last ?? "")
    }
}

extension JSONEncoder {
    /// An encoder with sorted keys, so equal values give equal bytes.
    public static var sortedKeys: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
