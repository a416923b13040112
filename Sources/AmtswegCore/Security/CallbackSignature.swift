import Crypto
import Foundation

/// The signature of FIT-Connect callbacks (and of Amtsweg's webhooks, which use the same format): hex HMAC-SHA512 over
/// `timestamp + "." + body`, sent as `callback-authentication`, with the Unix time in `callback-timestamp`.
public enum CallbackSignature {
    /// Callbacks older (or further in the future) than this are refused, so a captured one cannot be replayed later.
    public static let maxAgeSeconds: Int64 = 300

    /// The hex signature of `body` sent at `timestamp` (Unix seconds).
    public static func sign(body: Data, timestamp: Int64, secret: String) -> String {
        var input = Data("\(timestamp).".utf8)
        input.append(body)
        let mac = HMAC<SHA512>.authenticationCode(for: input, using: SymmetricKey(data: Data(secret.utf8)))
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Why a callback was refused.
    public enum Failure: Error, Equatable, Sendable {
        case missingHeaders
        case badTimestamp
        case expired
        case badSignature
    }

    /// Checks a received callback's headers against its raw body; throws the first reason to refuse it.
    public static func verify(body: Data, timestampHeader: String?, signatureHeader: String?, secret: String,
                              now: Int64 = Int64(Date().timeIntervalSince1970)) throws(Failure) {
        guard let timestampHeader, let signatureHeader else { throw .missingHeaders }
        guard timestampHeader.count <= 12, timestampHeader.allSatisfy(\.isASCIIDigit), let timestamp = Int64(timestampHeader) else { throw .badTimestamp }
        guard abs(now - timestamp) <= maxAgeSeconds else { throw .expired }
        let expected = sign(body: body, timestamp: timestamp, secret: secret)
        guard signatureHeader.count == expected.count, SecureToken.constantTimeEquals(signatureHeader.lowercased(), expected) else { throw .badSignature }
    }
}
