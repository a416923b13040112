import Crypto
import Foundation

/// Envelope encryption for personal data at rest: every record gets its own random data key (AES-256-GCM),
/// wrapped with a per-authority key derived from the platform master key (HKDF-SHA256).
///
/// The master key never touches the database; deleting a record's wrapped key makes its data unreadable,
/// in backups too.
public struct DataProtector: Sendable {
    private let master: SymmetricKey

    /// Creates a protector from a 256-bit master key.
    public init(masterKey: SymmetricKey) throws(DataProtectorError) {
        guard masterKey.bitCount == 256 else { throw .badMasterKey }
        master = masterKey
    }

    /// Creates a protector from a base64-encoded 32-byte master key.
    public init(base64 text: String) throws(DataProtectorError) {
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32 else { throw .badMasterKey }
        try self.init(masterKey: SymmetricKey(data: data))
    }

    /// A new random master key as base64, for key files and environment variables.
    public static func newMasterKeyBase64() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
    }

    /// Encrypts `plaintext` for `tenant`: the ciphertext (nonce, data, tag) and the wrapped data key.
    public func seal(_ plaintext: Data, tenant: UUID) throws -> (ciphertext: Data, wrappedKey: Data) {
        let dataKey = SymmetricKey(size: .bits256)
        let ciphertext = try AES.GCM.seal(plaintext, using: dataKey).combined!
        let keyBytes = dataKey.withUnsafeBytes { Data($0) }
        let wrapped = try AES.GCM.seal(keyBytes, using: tenantKey(tenant), authenticating: Data(tenant.uuidString.utf8)).combined!
        return (ciphertext, wrapped)
    }

    /// Decrypts what `seal` produced; throws when the key, tenant or data do not match.
    public func open(_ ciphertext: Data, wrappedKey: Data, tenant: UUID) throws -> Data {
        let keyBytes = try AES.GCM.open(AES.GCM.SealedBox(combined: wrappedKey), using: tenantKey(tenant), authenticating: Data(tenant.uuidString.utf8))
        return try AES.GCM.open(AES.GCM.SealedBox(combined: ciphertext), using: SymmetricKey(data: keyBytes))
    }

    private func tenantKey(_ tenant: UUID) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: master, salt: Data("amtsweg tenant key".utf8), info: Data(tenant.uuidString.utf8), outputByteCount: 32)
    }
}

/// Why a master key cannot be used.
public enum DataProtectorError: Error, Equatable {
    case badMasterKey
}
