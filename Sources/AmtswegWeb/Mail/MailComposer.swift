import AmtswegCore
import AmtswegStorage
import Foundation

/// Turns a queued mail into its text in the recipient's language, with links back to the portal.
///
/// Texts come from the `mail.*` messages; no template puts personal data or application details in a mail.
public struct MailComposer: Sendable {
    /// Translators by locale.
    let translators: [AppLocale: Translator]
    /// Public address of the portal, e.g. `https://amtsweg.example`, without a trailing slash.
    public let baseURL: String
    /// Sender address and name.
    public let from: String
    public let fromName: String

    /// Creates a composer.
    public init(translators: [AppLocale: Translator], baseURL: String, from: String, fromName: String) {
        self.translators = translators
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.from = from
        self.fromName = fromName
    }

    /// The message for `mail`.
    public func compose(_ mail: QueuedMail) -> MailMessage {
        let locale = AppLocale(rawValue: mail.locale) ?? .fallback
        let t = translators[locale] ?? translators[.fallback]!
        let prefix = "\(baseURL)/\(locale.rawValue)/konto"
        let token = mail.values["token"].flatMap { $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_"))) } ?? ""
        let link: String
        switch mail.template {
        case .verifyEmail: link = "\(prefix)/bestaetigen?token=\(token)"
        case .passwordReset: link = "\(prefix)/passwort-neu?token=\(token)"
        case .confirmNewEmail: link = "\(prefix)/email-bestaetigen?token=\(token)"
        case .alreadyRegistered, .passwordChanged, .emailChanged: link = "\(prefix)/passwort-vergessen"
        case .accountDeleted: link = "\(baseURL)/\(locale.rawValue)/status"
        case .postfachNotice: link = prefix
        }
        let key = "mail.\(mail.template.rawValue)"
        let arguments = ["link": link, "login": "\(prefix)/anmelden", "portal": t("common.siteName")]
        let text = t("\(key).body", arguments) + "\n\n-- \n" + t("mail.footer", arguments)
        return MailMessage(from: from, fromName: fromName, to: mail.recipient, subject: t("\(key).subject", arguments), text: text, id: mail.id)
    }
}
