import AmtswegStorage
import AmtswegWeb
import ArgumentParser
import Foundation

/// `amtsweg api-key`: issues an API key for an authority's specialist system, optionally with its encryption key.
struct APIKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api-key",
        abstract: "Issue an API key for a specialist system of an authority.",
        discussion: """
            Prints the new key once (only its hash is stored). With --encryption-jwk FILE (a public JWK: RSA, 4096 bits, \
            alg RSA-OAEP-256, key_ops wrapKey, kid), the specialist system can ask for end-to-end encrypted answers \
            with Accept: application/jose.
            """)
    @Option(help: "The authority's Amtlicher Regionalschlüssel.") var ars: String
    @Option(help: "A name for the key (which system uses it).") var label: String
    @Option(help: "File with the specialist system's public JWK.") var encryptionJwk: String?
    @OptionGroup var options: DatabaseOptions

    func run() async throws {
        var jwk: String?
        if let encryptionJwk {
            guard let data = FileManager.default.contents(atPath: encryptionJwk) else { throw ValidationError("cannot read \(encryptionJwk)") }
            do { jwk = try APIEncryption.validate(jwkJSON: data) } catch { throw ValidationError("--encryption-jwk: \(error)") }
        }
        let database = try await options.open(logger: Amtsweg.makeLogger())
        do {
            guard let tenant = try await TenantRepository(database: database).find(ars: ars) else { throw ValidationError("no authority with ARS \(ars)") }
            let key = try await StaffRepository(database: database).createAPIKey(tenantId: tenant.id, label: label, encryptionJWK: jwk)
            print("api key \(key.key)")
        } catch {
            await database.shutdown()
            throw error
        }
        await database.shutdown()
    }
}
