import AmtswegCore
import CryptoExtras
import Foundation
import Hummingbird

/// End-to-end encryption of pulled applications: a Fachverfahren that registered a public key (JWK, RSA 4096,
/// RSA-OAEP-256) with its API key and asks with `Accept: application/jose` gets every answer as a compact JWE
/// (A256GCM) that only it can open; the plain media type travels in the JWE's `cty`.
public enum APIEncryption {
    /// Why a key was refused at registration.
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// Checks a JWK for registration (RSA, at least 4096 bits, alg RSA-OAEP-256, key_ops wrapKey, with a kid);
    /// returns it as compact JSON.
    public static func validate(jwkJSON: Data) throws -> String {
        guard let jwk = try? JSONDecoder().decode(PublicJWK.self, from: jwkJSON) else { throw Invalid(description: "not a JSON Web Key") }
        do { _ = try DestinationKeys.checkedNumbers(jwk, use: .encryption) } catch { throw Invalid(description: "\(error)") }
        guard let kid = jwk.kid, !kid.isEmpty, kid.count <= 200 else { throw Invalid(description: "the key needs a kid") }
        return String(decoding: try JSONEncoder.sortedKeys.encode(jwk), as: UTF8.self)
    }

    /// Whether the client asked for an encrypted answer.
    static func wantsJOSE(_ request: Request) -> Bool {
        (request.headers[.accept] ?? "").lowercased().contains("application/jose")
    }

    /// `plain` with `contentType`, or, when the client asks for JOSE, a compact JWE of it to the registered key.
    static func respond(_ plain: Data, contentType: String, extraHeaders: HTTPFields = [:], to request: Request, jwk: String?) throws -> Response {
        var headers = extraHeaders
        guard wantsJOSE(request) else {
            headers[.contentType] = contentType
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(data: plain)))
        }
        guard let jwk, let key = try? JSONDecoder().decode(PublicJWK.self, from: Data(jwk.utf8)),
              let (n, e) = try? DestinationKeys.checkedNumbers(key, use: .encryption),
              let publicKey = try? _RSA.Encryption.PublicKey(n: n, e: e)
        else { throw APIFailure.notAcceptable("No encryption key is registered for this API key; ask without Accept: application/jose.") }
        let jwe = try JWE.encrypt(plain, to: publicKey, kid: key.kid ?? "", contentType: contentType)
        headers[.contentType] = "application/jose"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: jwe)))
    }
}
