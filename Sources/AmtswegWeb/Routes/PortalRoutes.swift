import AmtswegCore
import Foundation
import Hummingbird

/// Finding a service: start page, search, Lebenslagen, service information and starting an application.
struct PortalRoutes {
    let portal: Portal

    func register(on router: Router<AppRequestContext>, locale: AppLocale) {
        let prefix = "/\(locale.rawValue)"
        router.get("\(prefix)/") { _, _ in startPage(locale) }
        router.get("\(prefix)/suche") { request, _ in search(request, locale: locale) }
        router.get("\(prefix)/lebenslagen/:id") { _, context in try lebenslage(context, locale: locale) }
        router.get("\(prefix)/leistungen/:key") { request, context in try await service(request, context, locale: locale) }
        router.post("\(prefix)/leistungen/:key/start") { request, context in try await start(request, context, locale: locale) }
    }

    /// The start page, rendered once per locale: it depends on nothing else.
    func startPage(_ locale: AppLocale) -> Response {
        let html = portal.staticPages.page("start-\(locale.rawValue)") {
            let t = portal.translator(locale)
            let online = portal.offerings.keys.sorted().compactMap { key -> [String: Any]? in
                guard let (_, tenant, assistant) = portal.offering(key) else { return nil }
                return ["title": assistant.title.text(locale), "href": "/\(locale.rawValue)/leistungen/\(key)", "authority": tenant.name]
            }
            let themes = portal.catalogue.themenfelder.map { theme -> [String: Any] in
                ["name": theme, "lagen": portal.catalogue.lebenslagen(in: theme).map { lage in
                    ["name": lage.name, "href": "/\(locale.rawValue)/lebenslagen/\(lage.id)"]
                }]
            }
            return portal.renderPage("start", locale: locale, path: "/", title: t("start.title"),
                                     model: ["online": online, "themes": themes, "searchAction": "/\(locale.rawValue)/suche"], csrf: nil, tenant: nil)
        }
        return Portal.html(html, headers: [.cacheControl: "no-cache"])
    }

    func search(_ request: Request, locale: AppLocale) -> Response {
        let t = portal.translator(locale)
        let query = String((request.uri.queryParameters["q"].map(String.init) ?? "").prefix(100)).trimmingCharacters(in: .whitespacesAndNewlines)
        let hits = portal.catalogue.search(query, preferred: Set(portal.offerings.keys))
        let results = hits.map { leistung -> [String: Any] in
            var item: [String: Any] = ["name": leistung.name, "href": "/\(locale.rawValue)/leistungen/\(leistung.leikaKey)"]
            if let (_, _, assistant) = portal.offering(leistung.leikaKey) {
                item["name"] = assistant.title.text(locale)
                item["online"] = true
            }
            return item
        }
        let summary = query.isEmpty ? t("search.empty") : t.plural("search.count", count: results.count, ["query": query])
        return portal.page("search", locale: locale, path: "/suche?q=\(query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")",
                           title: t("search.title"), model: ["query": query, "results": results, "summary": summary,
                                                             "searchAction": "/\(locale.rawValue)/suche", "hasResults": !results.isEmpty])
    }

    func lebenslage(_ context: AppRequestContext, locale: AppLocale) throws -> Response {
        guard let id = context.parameters.get("id", as: Int.self), let lage = portal.catalogue.lebenslage(id: id) else {
            throw HTTPError(.notFound)
        }
        // Services a citizen can apply for online come first, under their assistant's title; the rest of the catalogue follows.
        var online: [[String: Any]] = [], other: [[String: Any]] = []
        for leistung in portal.catalogue.leistungen(inLebenslage: id) {
            let href = "/\(locale.rawValue)/leistungen/\(leistung.leikaKey)"
            if let (_, _, assistant) = portal.offering(leistung.leikaKey) {
                online.append(["name": assistant.title.text(locale), "href": href, "online": true])
            } else {
                other.append(["name": leistung.name, "href": href])
            }
        }
        online.sort { ($0["name"] as? String ?? "").localizedStandardCompare($1["name"] as? String ?? "") == .orderedAscending }
        return portal.page("lebenslage", locale: locale, path: "/lebenslagen/\(id)", title: lage.name,
                           model: ["themenfeld": lage.themenfeld, "onlineServices": online, "hasOnline": !online.isEmpty,
                                   "otherServices": other, "hasOther": !other.isEmpty])
    }

    func service(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let key = context.parameters.get("key"), let leistung = portal.catalogue.leistungen[key] else { throw HTTPError(.notFound) }
        let t = portal.translator(locale)
        let path = "/leistungen/\(key)"
        guard let (offering, tenant, assistant) = portal.offering(key) else {
            return portal.page("service-offline", locale: locale, path: path, title: leistung.name,
                               model: ["legalBasis": leistung.rechtsgrundlage ?? ""])
        }
        let (session, cookie) = try await portal.ensureSession(of: request)
        let info = assistant.information
        let fee = offering.fee
        var feeText: String
        if fee.firstCopyCents == 0 && fee.furtherCopyCents == 0 {
            feeText = t("service.feeNone")
        } else if assistant.fee == nil {
            feeText = t("service.feeFlat", ["amount": t.euros(cents: fee.firstCopyCents)])
        } else {
            feeText = t("service.feeFirst", ["amount": t.euros(cents: fee.firstCopyCents)])
            if fee.furtherCopyCents > 0 { feeText += " " + t("service.feeFurther", ["amount": t.euros(cents: fee.furtherCopyCents)]) }
        }
        return portal.page(
            "service", locale: locale, path: path, title: assistant.title.text(locale),
            model: [
                "description": info.description.text(locale), "eligibility": info.eligibility.text(locale),
                "requirements": info.requirements.map { $0.text(locale) }, "processingTime": info.processingTime.text(locale),
                "legalBasis": info.legalBasis.text(locale), "fee": feeText, "authority": tenant.name, "office": offering.office ?? tenant.office,
                "contactEmail": tenant.contactEmail, "startAction": "/\(locale.rawValue)/leistungen/\(key)/start",
                "leikaKey": key,
                "trustNote": offering.trustLevel.map { level in
                    level == .basis ? t("identity.serviceNeedsAccount")
                        : t("identity.serviceNeedsLevel", ["level": t("identity.level.\(level.rawValue)")])
                } ?? "",
            ],
            csrf: session.csrfToken, tenant: tenant, headers: cookie)
    }

    func start(_ request: Request, _ context: AppRequestContext, locale: AppLocale) async throws -> Response {
        guard let key = context.parameters.get("key"), let (offering, tenant, assistant) = portal.offering(key) else { throw HTTPError(.notFound) }
        guard let (_, session) = try await portal.session(of: request) else { throw HTTPError(.forbidden) }
        _ = try await portal.verifiedForm(request, session: session)
        if let redirect = portal.trustRedirect(for: offering, session: session, locale: locale, returnTo: "/\(locale.rawValue)/leistungen/\(key)") {
            return redirect
        }
        let draft = try await portal.drafts.create(
            tenantId: tenant.id, sessionHash: session.idHash, leikaKey: offering.leikaKey, assistant: assistant, locale: locale.rawValue)
        return Portal.redirect("/\(locale.rawValue)/antrag/\(draft.id)/\(assistant.pages[0].id)")
    }
}
