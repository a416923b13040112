import AmtswegCore
import Crypto
import Foundation

/// FIT-Connect metadata, schema version 1.0.0 (https://schema.fitko.de/fit-connect/metadata/1.0.0/metadata.schema.json):
/// what the submission contains, with SHA-512 hashes of the unencrypted parts.
struct SubmissionMetadata: Encodable, Equatable {
    struct Hash: Encodable, Equatable {
        var type = "sha512"
        let content: String

        init(of data: Data) { content = SHA512.hash(data: data).map { String(format: "%02x", $0) }.joined() }
    }
    struct SubmissionSchema: Encodable, Equatable { let schemaUri: String; let mimeType: String }
    struct DataPart: Encodable, Equatable { let hash: Hash; let submissionSchema: SubmissionSchema }
    struct Attachment: Encodable, Equatable {
        let attachmentId: String
        let hash: Hash
        /// `form` (the generated receipt of the whole application) or `attachment` (an upload of the citizen).
        let purpose: String
        let filename: String
        let mimeType: String
        let description: String?
    }
    struct ContentStructure: Encodable, Equatable { let data: DataPart; let attachments: [Attachment] }
    struct PublicServiceType: Encodable, Equatable { let name: String; let identifier: String }
    struct EMail: Encodable, Equatable { let address: String }
    struct ReplyChannel: Encodable, Equatable { let eMail: EMail }
    struct ReferenceInfo: Encodable, Equatable { let senderReference: String; let applicationDate: String }

    let contentStructure: ContentStructure
    let publicServiceType: PublicServiceType
    let replyChannel: ReplyChannel?
    let additionalReferenceInfo: ReferenceInfo

    /// The metadata of `package`, whose parts get the attachment ids in `ids` (by part key).
    init(package: SubmissionPackage, ids: [String: String]) {
        var attachments: [Attachment] = []
        for part in package.parts {
            attachments.append(Attachment(attachmentId: ids[part.key]!, hash: Hash(of: part.data), purpose: part.purpose,
                                          filename: part.filename, mimeType: part.contentType, description: part.description))
        }
        contentStructure = ContentStructure(
            data: DataPart(hash: Hash(of: package.data), submissionSchema: SubmissionSchema(schemaUri: package.schemaURI, mimeType: "application/json")),
            attachments: attachments)
        publicServiceType = PublicServiceType(name: package.serviceName, identifier: "urn:de:fim:leika:leistung:\(package.leikaKey)")
        replyChannel = package.replyEmail.map { ReplyChannel(eMail: EMail(address: $0)) }
        additionalReferenceInfo = ReferenceInfo(senderReference: package.caseNumber, applicationDate: package.applicationDate)
    }
}

/// Everything a destination receives for one application: Fachdaten, the receipt PDF and the citizen's uploads.
struct SubmissionPackage: Sendable {
    /// One file of the submission.
    struct Part: Sendable {
        /// Stable within the application (`form`, or the upload's id), so attachment ids survive retries.
        let key: String
        let purpose: String
        let filename: String
        let contentType: String
        let description: String?
        let data: Data
    }

    let serviceName: String
    let leikaKey: String
    let ars: String
    let caseNumber: String
    /// yyyy-MM-dd of the submission.
    let applicationDate: String
    /// The Fachdaten (JSON, valid against `schemaURI`).
    let data: Data
    let schemaURI: String
    let parts: [Part]
    let replyEmail: String?
}
