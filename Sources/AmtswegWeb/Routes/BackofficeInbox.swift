import AmtswegCore
import AmtswegStorage
import Foundation
import Hummingbird

/// The back-office inbox: filters by status, service, assignee and date, keyset paging (fast at 100,000 cases).
extension BackofficeRoutes {
    func inbox(_ request: Request, locale: AppLocale) async throws -> Response {
        guard let (session, user) = try await staffSession(request) else { return Portal.redirect("/\(locale.rawValue)/verwaltung/anmelden") }
        let t = portal.translator(locale)
        let query = request.uri.queryParameters
        let l = locale.rawValue
        var filter = InboxFilter()
        var parameters: [(String, String)] = []
        var errors: [[String: String]] = []
        if let raw = query["status"].map(String.init), let status = ApplicationStatus(rawValue: raw) {
            filter.status = status
            parameters.append(("status", raw))
        }
        let services = (portal.offerings.values.flatMap { $0 }.filter { $0.tenantId == user.tenantId })
            .map { ($0.leikaKey, portal.assistants[$0.assistantId]?.title.text(locale) ?? $0.leikaKey) }
            .sorted { $0.1.localizedCompare($1.1) == .orderedAscending }
        if let raw = query["leistung"].map(String.init), services.contains(where: { $0.0 == raw }) {
            filter.leikaKey = raw
            parameters.append(("leistung", raw))
        }
        let colleagues = try await portal.staff.users(tenantId: user.tenantId)
        let assigneeValue = query["zustaendig"].map(String.init) ?? ""
        switch assigneeValue {
        case "ich": filter.assignee = .user(user.id)
        case "niemand": filter.assignee = .nobody
        case let id where colleagues.contains { $0.id == id }: filter.assignee = .user(id)
        default: break
        }
        if filter.assignee != nil { parameters.append(("zustaendig", assigneeValue)) }
        for (name, anchor) in [("von", "from-filter"), ("bis", "until-filter")] {
            guard let raw = query[Substring(name)].map(String.init), !raw.isEmpty else { continue }
            guard let day = ThreadPresenter.day(raw) else {
                errors.append(["href": "#\(anchor)", "message": t("staff.dateInvalid")])
                continue
            }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "Europe/Berlin") ?? .gmt
            let start = calendar.startOfDay(for: day)
            if name == "von" { filter.from = start } else { filter.until = calendar.date(byAdding: .day, value: 1, to: start) }
            parameters.append((name, raw))
        }
        let cursor = query["nach"].flatMap { InboxCursor(text: String($0)) }
        let page = try await portal.applications.inbox(tenantId: user.tenantId, filter: filter, after: cursor)
        let names = Dictionary(uniqueKeysWithValues: colleagues.map { ($0.id, $0.displayName) })
        let items = page.items.map { item -> [String: String] in
            ["caseNumber": item.caseNumber, "href": "/\(l)/verwaltung/vorgang/\(item.id)",
             "service": portal.assistants[item.assistantId]?.title.text(locale) ?? item.leikaKey,
             "status": t("statusName.\(item.status.rawValue)"), "submittedAt": t.dateTime(item.submittedAt),
             "assignee": item.assigneeId.flatMap { names[$0] } ?? t("staff.nobody")]
        }
        let statuses = [("", t("staff.filterAll"))] + ApplicationStatus.allCases.map { ($0.rawValue, t("statusName.\($0.rawValue)")) }
        let assignees = [("", t("staff.assigneeAll")), ("ich", t("staff.assigneeMe")), ("niemand", t("staff.assigneeNobody"))]
            + colleagues.map { ($0.id, $0.displayName) }
        let encode = { (text: String) in text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "" }
        let filterQuery = parameters.map { "\($0.0)=\(encode($0.1))" }.joined(separator: "&")
        var model: [String: Any] = [
            "items": items, "hasItems": !items.isEmpty, "user": user.displayName, "isAdmin": user.isAdmin,
            "statuses": statuses.map { ["value": $0.0, "label": $0.1, "selected": $0.0 == (filter.status?.rawValue ?? "")] },
            "services": [["value": "", "label": t("staff.filterAll"), "selected": filter.leikaKey == nil]]
                + services.map { ["value": $0.0, "label": $0.1, "selected": $0.0 == filter.leikaKey] },
            "assignees": assignees.map { ["value": $0.0, "label": $0.1, "selected": filter.assignee != nil && $0.0 == assigneeValue] },
            "from": query["von"].map(String.init) ?? "", "until": query["bis"].map(String.init) ?? "",
            "logoutAction": "/\(l)/verwaltung/abmelden", "filterAction": "/\(l)/verwaltung",
            "problemsHref": "/\(l)/verwaltung/zustellungen", "teamHref": "/\(l)/verwaltung/team",
            "problemCount": String(try await portal.deliveries.problemCount(tenantId: user.tenantId)),
            "resultCount": t("staff.resultCount", ["count": String(items.count)]),
        ]
        if let next = page.next { model["nextHref"] = "/\(l)/verwaltung?\(filterQuery.isEmpty ? "" : filterQuery + "&")nach=\(next.text)" }
        if cursor != nil { model["firstHref"] = "/\(l)/verwaltung\(filterQuery.isEmpty ? "" : "?" + filterQuery)" }
        if !errors.isEmpty { model["errors"] = errors; model["hasErrors"] = true }
        return portal.page("staff-inbox", locale: locale, path: "/verwaltung", title: t("staff.inboxTitle"), model: model,
                           status: errors.isEmpty ? .ok : .unprocessableContent, csrf: session.csrfToken,
                           tenant: portal.tenantsById[user.tenantId], hasErrors: !errors.isEmpty)
    }
}
