import AmtswegCore
import CryptoExtras
import Foundation

/// Finds and checks the keys whose signatures FIT-Connect messages carry: the routing service's (routing results), the
/// Zustelldienst's (its own events) and each destination's (accept and reject). Checked keys are remembered by kid.
actor SignatureKeys {
    let client: FITConnectClient
    let trust: DestinationKeys
    private var checked: [String: Data] = [:]

    /// Creates the key store over `client`, trusting chains to `trust`'s roots.
    init(client: FITConnectClient, trust: DestinationKeys) {
        self.client = client
        self.trust = trust
    }

    /// Verifies a routing result's `destinationSignature`: a PS512 JWS by the routing service naming this destination,
    /// this service and this region, for our Submission API host.
    func verifyRouting(_ signature: String, destinationId: String, leikaKey: String, ars: String) async throws {
        struct Claims: Decodable {
            struct Service: Decodable { let gebietIDs: [String]?; let leistungIDs: [String]? }
            let destinationId: String
            let submissionHost: String?
            let services: [Service]?
        }
        let jws: CompactJWS
        do { jws = try CompactJWS(compact: signature) } catch { throw FITConnectError.permanent("destinationSignature is not a PS512 JWS") }
        guard let kid = jws.kid else { throw FITConnectError.permanent("destinationSignature names no key") }
        let url = client.settings.routingKeysURL
        let key = try await published(kid: kid, at: url, requireChain: true)
        do { try jws.verify(with: key) } catch { throw FITConnectError.permanent("destinationSignature does not verify") }
        guard let claims = try? JSONDecoder().decode(Claims.self, from: jws.payload), claims.destinationId == destinationId else {
            throw FITConnectError.permanent("destinationSignature is for another destination")
        }
        let services = claims.services ?? []
        let region = "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:rs:\(ars)"
        guard services.contains(where: { ($0.leistungIDs ?? []).contains("urn:de:fim:leika:leistung:\(leikaKey)")
                && ($0.gebietIDs ?? []).contains(where: { region.hasPrefix($0) }) }) else {
            throw FITConnectError.permanent("destinationSignature does not cover \(leikaKey) in \(ars)")
        }
        let submissionURL = client.settings.submissionURL
        if let host = claims.submissionHost, let expected = URL(string: submissionURL).flatMap({ url in url.host.map { h in url.port.map { "\(h):\($0)" } ?? h } }),
           host != expected {
            throw FITConnectError.permanent("destinationSignature names another Submission API host")
        }
    }

    /// Checks a SET's signature: the destination's key for its own events, the Zustelldienst's for the others.
    func verify(_ token: SecurityEventToken, destinationId: String) async throws {
        guard let kid = token.kid else { throw FITConnectError.permanent("SET names no key") }
        let key: Data
        if token.issuer == destinationId {
            key = try await destinationKey(destinationId: destinationId, kid: kid)
        } else {
            let url = client.settings.submissionURL + "/.well-known/jwks.json"
            key = try await published(kid: kid, at: url, requireChain: false)
        }
        do { try token.verify(with: key) } catch { throw FITConnectError.permanent("SET signature does not verify") }
    }

    private func destinationKey(destinationId: String, kid: String) async throws -> Data {
        let cacheKey = "destination|\(destinationId)|\(kid)"
        if let key = checked[cacheKey] { return key }
        let jwk = try await client.key(destination: destinationId, kid: kid)
        let key: Data
        do { key = try await trust.verifyChain(jwk, use: .signature) } catch let problem as KeyProblem {
            throw FITConnectError.permanent("destination signature key refused: \(problem)")
        }
        checked[cacheKey] = key
        return key
    }

    /// A key from a published key set; with `requireChain` its x5c must lead to a trusted root, otherwise a chain is
    /// checked when present. An unknown kid refetches the set once (keys are rotated).
    private func published(kid: String, at url: String, requireChain: Bool) async throws -> Data {
        let cacheKey = "\(url)|\(kid)"
        if let key = checked[cacheKey] { return key }
        guard let jwk = try await client.keySet(url).first(where: { $0.kid == kid }) else {
            throw FITConnectError.permanent("no published key \(kid)")
        }
        let key: Data
        do {
            if requireChain || jwk.x5c != nil {
                key = try await trust.verifyChain(jwk, use: .signature)
            } else {
                let (n, e) = try DestinationKeys.checkedNumbers(jwk, use: .signature)
                key = try _RSA.Signing.PublicKey(n: n, e: e).derRepresentation
            }
        } catch let problem as KeyProblem {
            throw FITConnectError.permanent("signature key \(kid) refused: \(problem)")
        }
        checked[cacheKey] = key
        return key
    }
}
