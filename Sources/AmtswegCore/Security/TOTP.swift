import Crypto
import Foundation

/// Time-based one-time passwords (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps), as every authenticator app
/// understands them.
public struct TOTP: Sendable {
    /// The shared secret (20 random bytes when generated here).
    public let secret: Data
    public static let digits = 6
    public static let period: Int64 = 30

    /// A TOTP over `secret`.
    public init(secret: Data) { self.secret = secret }

    /// 160 random bits, the length RFC 4226 recommends for HMAC-SHA-1.
    public static func generateSecret() -> Data {
        SymmetricKey(size: SymmetricKeySize(bitCount: 160)).withUnsafeBytes { Data($0) }
    }

    /// The time step of `date`.
    public static func step(at date: Date) -> Int64 { Int64(date.timeIntervalSince1970) / period }

    /// The code for time step `step` (RFC 4226 dynamic truncation).
    public func code(step: Int64) -> String {
        var counter = UInt64(bitPattern: step).bigEndian
        let message = withUnsafeBytes(of: &counter) { Data($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let value = (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        let code = String(value % 1_000_000)
        return String(repeating: "0", count: Self.digits - code.count) + code
    }

    /// The step within `window` steps of `date` whose code is `input` (spaces ignored), or nil.
    /// Every candidate is compared, so the time taken does not tell which step matched.
    public func matchingStep(_ input: String, at date: Date, window: Int64 = 1) -> Int64? {
        let typed = input.filter { !$0.isWhitespace && $0 != "-" }
        guard typed.count == Self.digits, typed.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let now = Self.step(at: date)
        var found: Int64?
        for step in (now - window)...(now + window) where SecureToken.constantTimeEquals(code(step: step), typed) {
            found = found ?? step
        }
        return found
    }

    /// The `otpauth://` URI authenticator apps read (from a link or a QR code).
    public func provisioningURI(issuer: String, account: String) -> String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let label = "\(issuer):\(account)".addingPercentEncoding(withAllowedCharacters: allowed.union(CharacterSet(charactersIn: ":"))) ?? account
        let issuerParameter = issuer.addingPercentEncoding(withAllowedCharacters: allowed) ?? issuer
        return "otpauth://totp/\(label)?secret=\(Base32.encode(secret))&issuer=\(issuerParameter)&algorithm=SHA1&digits=\(Self.digits)&period=\(Self.period)"
    }
}

/// RFC 4648 base32 without padding, the form TOTP secrets are typed in.
public enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    /// Base32 text of `data`.
    public static func encode(_ data: Data) -> String {
        var output: [UInt8] = [], buffer: UInt32 = 0, bits = 0
        for byte in data {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return String(decoding: output, as: UTF8.self)
    }

    /// The bytes of base32 `text` (case, spaces and padding ignored), or nil for other characters.
    public static func decode(_ text: String) -> Data? {
        var output = Data(), buffer: UInt32 = 0, bits = 0
        for character in text.uppercased().utf8 where character != UInt8(ascii: " ") && character != UInt8(ascii: "=") {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            buffer = (buffer << 5) | UInt32(value)
            bits += 5
            if bits >= 8 {
                output.append(UInt8((buffer >> UInt32(bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        return output
    }
}

/// Single-use recovery codes for when the authenticator is lost: 10 codes of 10 base32 characters (50 bits each).
public enum RecoveryCodes {
    /// New codes, formatted `xxxxx-xxxxx`.
    public static func generate(count: Int = 10) -> [String] {
        (0..<count).map { _ in
            let text = Base32.encode(SymmetricKey(size: SymmetricKeySize(bitCount: 64)).withUnsafeBytes { Data($0) }).lowercased()
            return String(text.prefix(5)) + "-" + String(text.dropFirst(5).prefix(5))
        }
    }

    /// The stored form of a typed code: hash of the code without dashes and spaces, lowercased.
    public static func hash(_ typed: String) -> String {
        SecureToken.hash(typed.lowercased().filter { $0.isLetter || $0.isNumber })
    }
}
