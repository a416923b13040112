import AmtswegCore
import AmtswegStorage
import Foundation
import Logging

/// Delivers applications through FIT-Connect: find the destination (route or Routing API), check its key, create the
/// submission, upload each attachment, send metadata and Fachdaten, all end-to-end encrypted; then follow the case's
/// event log until the destination accepts or rejects. Progress is stored after each step, so a retry (after a crash
/// too) continues where the last attempt stopped and the destination never gets the same application twice.
struct FITConnectSender: Sendable {
    let client: FITConnectClient
    let keys: SignatureKeys
    let trust: DestinationKeys
    let packager: SubmissionPackager
    let deliveries: DeliveryRepository
    let routes: DeliveryRouteRepository
    let logger: Logger

    /// What has been done for one delivery (stored as the job's remote state).
    struct Progress: Codable, Equatable {
        var destinationId: String
        var submissionId: String?
        var caseId: String?
        /// Attachment id per package part key.
        var attachmentIds: [String: String] = [:]
        /// Authentication tags of what was uploaded and submitted; the destination's accept must name the same.
        var attachmentTags: [String: String] = [:]
        /// The encrypted metadata and Fachdaten, kept so a repeated submit sends exactly the same bytes.
        var encryptedMetadata: String?
        var encryptedData: String?
        var submitted = false
        /// Events of the case already read.
        var eventOffset = 0

        var expectedTags: SecurityEventToken.AuthenticationTags? {
            guard let encryptedMetadata, let encryptedData else { return nil }
            return .init(metadata: JWE.authenticationTag(of: encryptedMetadata), data: JWE.authenticationTag(of: encryptedData),
                         attachments: attachmentTags)
        }
    }

    /// The result of a send attempt.
    enum SendOutcome {
        case submitted(Progress)
        case failed(FITConnectError)
        /// Another worker holds the job now; leave it alone.
        case leaseLost
    }

    /// The result of reading the event log.
    enum PollOutcome {
        case accepted
        case rejected([String])
        case waiting(Progress)
    }

    /// One attempt to hand `delivery` over to FIT-Connect.
    func send(_ delivery: DeliveryRecord) async -> SendOutcome {
        do {
            return try await attempt(delivery)
        } catch let error as FITConnectError {
            return .failed(error)
        } catch let problem as KeyProblem {
            return .failed(.permanent("destination key refused: \(problem)"))
        } catch let missing as SubmissionPackager.Missing {
            return .failed(.permanent(missing.description))
        } catch {
            return .failed(.transient(String(describing: type(of: error))))
        }
    }

    private func attempt(_ delivery: DeliveryRecord) async throws -> SendOutcome {
        let schemaBase = client.settings.publicBaseURL
        let package = try await packager.package(tenantId: delivery.tenantId, applicationId: delivery.applicationId, schemaBase: schemaBase)
        var progress: Progress
        if let stored = delivery.remoteState, let decoded = try? JSONDecoder().decode(Progress.self, from: Data(stored.utf8)) {
            progress = decoded
        } else {
            let configured = try await routes.route(id: delivery.routeId)?.target
            let destinationId: String
            if let configured { destinationId = configured } else {
                destinationId = try await client.destinationId(leikaKey: package.leikaKey, ars: package.ars, verifier: keys)
            }
            progress = Progress(destinationId: destinationId)
        }
        let destination = try await client.destination(progress.destinationId)
        guard destination.status == "active" else { throw FITConnectError.transient("destination is \(destination.status)") }
        let identifier = "urn:de:fim:leika:leistung:\(package.leikaKey)"
        if let services = destination.services, !services.contains(where: { $0.identifier == identifier }) {
            throw FITConnectError.permanent("destination does not offer \(package.leikaKey)")
        }
        let jwk = try await client.key(destination: progress.destinationId, kid: destination.encryptionKid)
        let key = try await trust.encryptionKey(jwk)
        let kid = jwk.kid ?? destination.encryptionKid

        if progress.submissionId == nil {
            for part in package.parts where progress.attachmentIds[part.key] == nil {
                progress.attachmentIds[part.key] = UUID().uuidString.lowercased()
            }
            let ids = package.parts.compactMap { progress.attachmentIds[$0.key] }
            let created = try await client.createSubmission(destinationId: progress.destinationId, attachmentIds: ids,
                                                            serviceName: package.serviceName, leikaKey: package.leikaKey)
            progress.submissionId = created.submissionId
            progress.caseId = created.caseId
            guard try await save(progress, for: delivery) else { return .leaseLost }
        }
        guard let submissionId = progress.submissionId else { throw FITConnectError.permanent("no submission id") }
        for part in package.parts where !progress.submitted {
            guard let attachmentId = progress.attachmentIds[part.key] else {
                throw FITConnectError.permanent("an upload appeared after the submission was announced")
            }
            if progress.attachmentTags[attachmentId] != nil { continue }
            let jwe = try JWE.encrypt(part.data, to: key, kid: kid, contentType: part.contentType)
            try await client.upload(submissionId: submissionId, attachmentId: attachmentId, jwe: jwe)
            progress.attachmentTags[attachmentId] = JWE.authenticationTag(of: jwe)
            guard try await save(progress, for: delivery) else { return .leaseLost }
        }
        if !progress.submitted {
            if progress.encryptedMetadata == nil || progress.encryptedData == nil {
                let metadata = try JSONEncoder.sortedKeys.encode(SubmissionMetadata(package: package, ids: progress.attachmentIds))
                progress.encryptedMetadata = try JWE.encrypt(metadata, to: key, kid: kid, contentType: "application/json")
                progress.encryptedData = try JWE.encrypt(package.data, to: key, kid: kid, contentType: "application/json")
                guard try await save(progress, for: delivery) else { return .leaseLost }
            }
            try await client.submit(submissionId: submissionId, metadata: progress.encryptedMetadata!, data: progress.encryptedData!)
            progress.submitted = true
        }
        return .submitted(progress)
    }

    private func save(_ progress: Progress, for delivery: DeliveryRecord) async throws -> Bool {
        try await deliveries.saveProgress(delivery, remoteState: String(decoding: try JSONEncoder.sortedKeys.encode(progress), as: UTF8.self))
    }

    /// Reads new events of the case: a verified accept-submission with the tags that were sent accepts the delivery,
    /// a verified reject-submission rejects it; anything that does not verify is logged and changes nothing.
    func poll(_ delivery: DeliveryRecord) async throws -> PollOutcome {
        guard let stored = delivery.remoteState, var progress = try? JSONDecoder().decode(Progress.self, from: Data(stored.utf8)),
              let submissionId = progress.submissionId, let caseId = progress.caseId
        else { throw FITConnectError.permanent("delivery has no FIT-Connect submission") }
        let events = try await client.events(caseId: caseId, offset: progress.eventOffset)
        progress.eventOffset += events.count
        for text in events {
            let token: SecurityEventToken
            do { token = try SecurityEventToken(compact: text) } catch {
                logger.warning("FIT-Connect event refused", metadata: ["delivery": "\(delivery.id)", "reason": "unreadable SET \(error)"])
                continue
            }
            do {
                try await keys.verify(token, destinationId: progress.destinationId)
            } catch {
                logger.warning("FIT-Connect event refused", metadata: ["delivery": "\(delivery.id)", "event": "\(token.eventName)", "reason": "\(error)"])
                continue
            }
            guard token.subject == "submission:\(submissionId)", token.transaction == nil || token.transaction == "case:\(caseId)" else {
                logger.warning("FIT-Connect event refused", metadata: ["delivery": "\(delivery.id)", "reason": "event of another submission"])
                continue
            }
            guard token.issuer == progress.destinationId else { continue }
            switch token.eventName {
            case "accept-submission":
                guard token.event.authenticationTags == progress.expectedTags else {
                    logger.warning("FIT-Connect event refused", metadata: ["delivery": "\(delivery.id)", "reason": "accept names other content"])
                    continue
                }
                return .accepted
            case "reject-submission":
                let problems = (token.event.problems ?? []).map { problem in
                    [problem.title, problem.detail].compactMap { $0 }.joined(separator: ": ")
                }.filter { !$0.isEmpty }
                return .rejected(problems.isEmpty ? ["reject-submission"] : problems.map { String($0.prefix(500)) })
            default:
                continue
            }
        }
        return .waiting(progress)
    }
}
