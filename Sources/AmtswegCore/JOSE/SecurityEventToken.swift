import Foundation

/// A FIT-Connect Security Event Token (RFC 8417): a compact JWS, PS512, `typ` secevent+jwt, with one event.
public struct SecurityEventToken: Sendable, Equatable {
    /// Why a SET was refused.
    public enum Failure: Error, Equatable, Sendable {
        case malformed
        case unsupportedHeader
        case badSignature
    }

    /// A problem named in a reject-submission event.
    public struct Problem: Codable, Sendable, Equatable {
        public let type: String?
        public let title: String?
        public let detail: String?
        public let instance: String?
    }

    /// The JWE authentication tags an event vouches for.
    public struct AuthenticationTags: Codable, Sendable, Equatable {
        public let metadata: String?
        public let data: String?
        public let attachments: [String: String]?

        /// Tags of a submission's parts.
        public init(metadata: String?, data: String?, attachments: [String: String]?) {
            self.metadata = metadata
            self.data = data
            self.attachments = attachments
        }
    }

    /// The content of the event.
    public struct Event: Codable, Sendable, Equatable {
        public let authenticationTags: AuthenticationTags?
        public let problems: [Problem]?
    }

    struct Claims: Decodable {
        let iss: String
        let iat: Int64
        let jti: String
        let sub: String
        let txn: String?
        let events: [String: Event]
    }

    /// The key id the signature claims.
    public let kid: String?
    /// Issuer: the Zustelldienst, or the destination id for the destination's own events.
    public let issuer: String
    public let issuedAt: Date
    public let id: String
    /// `submission:<id>`.
    public let subject: String
    /// `case:<id>`.
    public let transaction: String?
    /// The event's URI, e.g. https://schema.fitko.de/fit-connect/events/accept-submission.
    public let eventType: String
    public let event: Event
    let jws: CompactJWS

    /// The short event name (`accept-submission`).
    public var eventName: String { eventType.split(separator: "/").last.map(String.init) ?? eventType }

    /// Reads a SET without trusting it yet; `verify(with:)` must succeed before anything it says is used.
    public init(compact text: String) throws(Failure) {
        let jws: CompactJWS
        do { jws = try CompactJWS(compact: text) } catch {
            throw error == .unsupportedHeader ? .unsupportedHeader : .malformed
        }
        guard jws.type == "secevent+jwt" else { throw .unsupportedHeader }
        guard let claims = try? JSONDecoder().decode(Claims.self, from: jws.payload), claims.events.count == 1,
              let (type, event) = claims.events.first
        else { throw .malformed }
        kid = jws.kid
        issuer = claims.iss
        issuedAt = Date(timeIntervalSince1970: TimeInterval(claims.iat))
        id = claims.jti
        subject = claims.sub
        transaction = claims.txn
        eventType = type
        self.event = event
        self.jws = jws
    }

    /// Checks the PS512 signature against `keyDER` (SubjectPublicKeyInfo DER of a verified RSA key).
    public func verify(with keyDER: Data) throws(Failure) {
        do { try jws.verify(with: keyDER) } catch { throw .badSignature }
    }
}
