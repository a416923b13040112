import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird

/// Delivery state in the back office: each application's deliveries in its case view, the authority's dead letters on
/// one page, and sending one again once its destination is fixed.
extension BackofficeRoutes {
    /// Table rows for the deliveries of one application; dead or rejected ones carry a re-send form.
    func deliveryRows(_ deliveries: [DeliveryRecord], locale: AppLocale, translator t: Translator, canResend: Bool) -> [[String: Any]] {
        deliveries.map { delivery in
            let destination = t("delivery.kind.\(delivery.kind.rawValue)")
            var row: [String: Any] = [
                "id": delivery.id, "destination": destination, "state": t("delivery.stateName.\(delivery.state.rawValue)"),
                "stateValue": delivery.state.rawValue, "attempts": String(delivery.attempts), "updated": t.dateTime(delivery.updatedAt),
                "caseNumber": delivery.caseNumber, "caseHref": "/\(locale.rawValue)/verwaltung/vorgang/\(delivery.applicationId)",
            ]
            let problem = ([delivery.lastError].compactMap { $0 } + delivery.problems).joined(separator: "; ")
            if !problem.isEmpty { row["problem"] = problem }
            if canResend, delivery.state == .dead || delivery.state == .rejected {
                row["resendAction"] = "/\(locale.rawValue)/verwaltung/vorgang/\(delivery.applicationId)/zustellung/\(delivery.id)"
                row["resendLabel"] = t("delivery.resendLabel", ["destination": destination])
            }
            return row
        }
    }

    /// Puts a dead or rejected delivery back into the queue and wakes the worker.
    func resendDelivery(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let (session, user) = try await adminSession(request, locale: locale) else { return Portal.redirect("/\(locale.rawValue)/verwaltung/anmelden") }
        _ = try await portal.verifiedForm(request, session: session)
        guard let id = context.parameters.get("application"), let deliveryId = context.parameters.get("delivery"),
              let delivery = try await portal.deliveries.deliveries(tenantId: user.tenantId, applicationId: id).first(where: { $0.id == deliveryId })
        else { throw HTTPError(.notFound) }
        do {
            _ = try await portal.deliveries.resend(tenantId: user.tenantId, deliveryId: delivery.id, actor: Actor(kind: "staff", id: user.id))
        } catch StorageError.conflict {
            return try await caseView(request, context, locale: locale, error: portal.translator(locale)("delivery.notResendable"))
        }
        context.logger.info("delivery queued again", metadata: ["delivery": "\(delivery.id)", "user": "\(user.id)"])
        portal.deliveryWorker.nudge()
        return Portal.redirect("/\(locale.rawValue)/verwaltung/vorgang/\(id)?ok=zustellung")
    }

    /// The authority's dead and rejected deliveries.
    func deliveryProblems(_ request: Request, locale: AppLocale) async throws -> Response {
        guard let (session, user) = try await adminSession(request, locale: locale) else { return Portal.redirect("/\(locale.rawValue)/verwaltung/anmelden") }
        let t = portal.translator(locale)
        let rows = deliveryRows(try await portal.deliveries.problems(tenantId: user.tenantId), locale: locale, translator: t, canResend: true)
        let model: [String: Any] = [
            "deliveries": rows, "hasDeliveries": !rows.isEmpty, "showCase": true, "user": user.displayName,
            "logoutAction": "/\(locale.rawValue)/verwaltung/abmelden", "inboxHref": "/\(locale.rawValue)/verwaltung",
        ]
        return portal.page("staff-deliveries", locale: locale, path: "/verwaltung/zustellungen", title: t("delivery.problemsTitle"), model: model,
                           csrf: session.csrfToken, tenant: portal.tenantsById[user.tenantId])
    }
}
