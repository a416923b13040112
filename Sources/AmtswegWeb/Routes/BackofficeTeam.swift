import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird
import HummingbirdBcrypt

/// The authority's team, for its administration: who has access, in which role, with a second factor or not; and
/// new accesses with a one-time password (the second factor is set up at the first login).
extension BackofficeRoutes {
    /// The signed-in user, if they administer the authority; otherwise a 403 page.
    func adminSession(_ request: Request, locale: AppLocale) async throws -> (SessionRecord, StaffUser)? {
        guard let (session, user) = try await staffSession(request) else { return nil }
        guard user.isAdmin else { throw HTTPError(.forbidden, message: portal.translator(locale)("staff.adminOnly")) }
        return (session, user)
    }

    func team(_ request: Request, locale: AppLocale, form: [String: String] = [:], error: (field: String, message: String)? = nil,
              created: String? = nil) async throws -> Response {
        guard let (session, user) = try await adminSession(request, locale: locale) else { return Portal.redirect("/\(locale.rawValue)/verwaltung/anmelden") }
        let t = portal.translator(locale)
        var rows: [[String: String]] = []
        for colleague in try await portal.staff.users(tenantId: user.tenantId) {
            let enrolled = try await portal.secondFactors.isEnrolled(.staff(colleague.id))
            rows.append(["name": colleague.displayName, "username": colleague.username, "role": t("staff.roleName.\(colleague.role)"),
                         "factor": t(enrolled ? "staff.factorYes" : "staff.factorNo")])
        }
        let role = form["role"] ?? StaffUser.caseWorker
        var model: [String: Any] = [
            "rows": rows, "user": user.displayName, "logoutAction": "/\(locale.rawValue)/verwaltung/abmelden",
            "inboxHref": "/\(locale.rawValue)/verwaltung", "addAction": "/\(locale.rawValue)/verwaltung/team",
            "name": form["name"] ?? "", "username": form["username"] ?? "",
            "roles": [StaffUser.caseWorker, StaffUser.authorityAdmin].map { ["value": $0, "label": t("staff.roleName.\($0)"), "selected": $0 == role] },
        ]
        if let created { model["success"] = created }
        if let error {
            model[error.field == "name" ? "errorName" : "errorUsername"] = error.message
            model["errors"] = [["href": "#\(error.field)", "message": error.message]]
            model["hasErrors"] = true
        }
        return portal.page("staff-team", locale: locale, path: "/verwaltung/team", title: t("staff.teamTitle"), model: model,
                           status: error == nil ? .ok : .unprocessableContent, csrf: session.csrfToken,
                           tenant: portal.tenantsById[user.tenantId], hasErrors: error != nil)
    }

    func addColleague(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (session, user) = try await adminSession(request, locale: locale) else { return Portal.redirect("/\(locale.rawValue)/verwaltung/anmelden") }
        let form = try await portal.verifiedForm(request, session: session)
        let t = portal.translator(locale)
        let name = (form.values["name"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let username = (form.values["username"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let role = form.values["role"] == StaffUser.authorityAdmin ? StaffUser.authorityAdmin : StaffUser.caseWorker
        let values = ["name": name, "username": username, "role": role]
        guard !name.isEmpty, name.count <= 120 else {
            return try await team(request, locale: locale, form: values, error: ("name", t("staff.addNameMissing")))
        }
        guard Portal.normalisedEmail(username) != nil else {
            return try await team(request, locale: locale, form: values, error: ("username", t("staff.addUsernameInvalid")))
        }
        guard try await portal.staff.user(username: username) == nil else {
            return try await team(request, locale: locale, form: values, error: ("username", t("staff.addUsernameTaken")))
        }
        // A one-time password, handed over in person; the second factor is set up at the first login.
        let password = SecureToken.generate().prefix(20).description
        let hash = await Task.detached { Bcrypt.hash(password, cost: 12) }.value
        try await portal.staff.upsertUser(tenantId: user.tenantId, username: username, passwordHash: hash, role: role, displayName: name)
        context.logger.info("back-office access created", metadata: ["by": "\(user.id)", "role": "\(role)"])
        return try await team(request, locale: locale, created: t("staff.added", ["password": password]))
    }
}
