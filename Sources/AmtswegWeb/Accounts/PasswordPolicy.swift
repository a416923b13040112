import Crypto
import Foundation
import HummingbirdBcrypt

/// The rules for citizens' passwords (NIST SP 800-63B §5.1.1.2, BSI ORP.4.A23): at least 8 characters, up to 256,
/// no composition rules, not on the list of common and breached passwords, not the e-mail address; and how they
/// are stored: bcrypt (cost 12) over an HMAC-SHA-256 of the NFC-normalised password, so that passwords longer than
/// bcrypt's 72 bytes count in full.
public struct PasswordPolicy: Sendable {
    /// Common and breached passwords, lowercased and NFC-normalised.
    let blocked: Set<String>
    /// bcrypt work factor.
    let cost: UInt8

    /// Shortest and longest accepted password, in characters.
    public static let minimumLength = 8
    public static let maximumLength = 256
    /// Marks hashes of this scheme, so the scheme can change later without breaking stored hashes.
    static let prefix = "pbc1$"

    /// Creates a policy with `blocked` passwords (one per line, as in `data/common-passwords.txt`).
    public init(blockedList: String, cost: UInt8 = 12) {
        blocked = Set(blockedList.split(whereSeparator: \.isNewline).map { Self.normalised(String($0)).lowercased() })
        self.cost = cost
    }

    /// Why `password` is refused, as a message key (`account.password*`), or nil when it is acceptable.
    public func problem(_ password: String, email: String) -> String? {
        let text = Self.normalised(password)
        if text.count < Self.minimumLength { return "account.passwordTooShort" }
        if text.count > Self.maximumLength { return "account.passwordTooLong" }
        let lower = text.lowercased()
        let local = email.split(separator: "@").first.map { String($0).lowercased() } ?? ""
        if lower == email.lowercased() || (local.count >= 4 && lower.contains(local)) { return "account.passwordContainsEmail" }
        if blocked.contains(lower) || Set(lower).count == 1 { return "account.passwordCommon" }
        return nil
    }

    /// The stored form of `password` (slow on purpose: run it off the event loop).
    public func hash(_ password: String) async -> String {
        let input = Self.prehash(password), cost = cost
        return await Task.detached { Self.prefix + Bcrypt.hash(input, cost: cost) }.value
    }

    /// Whether `password` matches `stored`. With `stored` nil it still spends the same time and answers false,
    /// so a login for an unknown address takes as long as one for a known address.
    public func verify(_ password: String, against stored: String?) async -> Bool {
        let input = Self.prehash(password)
        let hash = stored.flatMap { $0.hasPrefix(Self.prefix) ? String($0.dropFirst(Self.prefix.count)) : nil } ?? Self.dummyHash
        let valid = await Task.detached { Bcrypt.verify(input, hash: hash) }.value
        return valid && stored != nil
    }

    /// A bcrypt hash of cost 12 that no prehashed password matches (its input was random).
    static let dummyHash = "$2b$12$C6UzMDM.H6dfI/f/IKcEeO5P8HTB6XB9bxpvHFkpmg5cA4Dkm/2s."

    /// NFC, so the same password typed on different systems gives the same bytes.
    static func normalised(_ password: String) -> String { password.precomposedStringWithCanonicalMapping }

    /// 44 base64 characters: no NUL byte, under bcrypt's 72-byte limit, the whole password counted.
    static func prehash(_ password: String) -> String {
        let key = SymmetricKey(data: Data("amtsweg password prehash v1".utf8))
        return Data(HMAC<SHA256>.authenticationCode(for: Data(normalised(password).utf8), using: key)).base64EncodedString()
    }
}
