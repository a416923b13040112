import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird

/// Services that need an account, or a proven trust level, send the citizen to sign in or to step up first.
extension Portal {
    /// A redirect to login or step-up when `session` does not meet what `offering` needs; nil when it does.
    func trustRedirect(for offering: TenantService, session: SessionRecord, locale: AppLocale, returnTo: String) -> Response? {
        guard let needed = offering.trustLevel else { return nil }
        let back = IdentityRoutes.query(returnTo)
        guard session.accountId != nil else { return Portal.redirect("/\(locale.rawValue)/konto/anmelden?weiter=\(back)") }
        guard needed > .basis, (session.data.trustLevel ?? .basis) < needed else { return nil }
        return Portal.redirect("/\(locale.rawValue)/konto/vertrauensniveau?stufe=\(needed.rawValue)&weiter=\(back)")
    }
}
