import AmtswegCore
import AmtswegStorage
import Foundation

/// Which fields of which assistant page may be prefilled from which profile item (Resources/data/prefill.json):
/// only fields about the applicant, checked against every assistant version by scripts/check-prefill.py.
public struct PrefillMap: Sendable, Decodable {
    /// The profile items, in form order.
    public let profileItems: [String]
    /// assistant id → page id → field id → profile item.
    public let assistants: [String: [String: [String: String]]]

    /// The values to show on `page` of `assistant` from `profile`, by field id.
    func values(assistant: String, page: String, profile: CitizenProfile) -> [String: String] {
        var result: [String: String] = [:]
        for (field, item) in assistants[assistant]?[page] ?? [:] {
            if let value = profile.values[item], !value.isEmpty { result[field] = value }
        }
        return result
    }
}

/// Checks and normalises what a citizen types into the profile form.
enum ProfileForm {
    /// The profile items and the localized problem of each bad one.
    static func validate(_ input: [String: String], items: [String], translator t: Translator, today: Date = Date()) -> (values: [String: String], errors: [String: String]) {
        var values: [String: String] = [:], errors: [String: String] = [:]
        for item in items {
            let raw = String((input[item] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).prefix(201))
            guard !raw.isEmpty else { continue }
            if raw.count > 200 { errors[item] = t("profile.tooLong"); continue }
            switch item {
            case "birthDate":
                guard let iso = Self.isoDate(raw), let date = ThreadPresenter.day(iso), date < today else { errors[item] = t("profile.dateInvalid"); continue }
                values[item] = iso
            case "postalCode":
                guard raw.count == 5, raw.allSatisfy({ $0.isASCII && $0.isNumber }) else { errors[item] = t("profile.postalCodeInvalid"); continue }
                values[item] = raw
            case "email":
                guard let email = Portal.normalisedEmail(raw) else { errors[item] = t("account.emailInvalid"); continue }
                values[item] = email
            case "phone":
                guard raw.count <= 30, raw.allSatisfy({ $0.isNumber || " +-/()".contains($0) }) else { errors[item] = t("profile.phoneInvalid"); continue }
                values[item] = raw
            default:
                // Names and places are checked like the assistants' Latin text fields (DIN SPEC 91379).
                if let bad = DIN91379.firstInvalidCharacter(in: raw) { errors[item] = t("profile.characterInvalid", ["character": String(bad)]); continue }
                values[item] = raw
            }
        }
        return (values, errors)
    }

    /// `31.12.1990` or `31/12/1990` (day first, as written in Germany and Britain); `1990-12-31` passes through;
    /// two-digit years are refused.
    static func isoDate(_ text: String) -> String? {
        let parts = text.split(whereSeparator: { $0 == "." || $0 == "-" || $0 == "/" }).map(String.init)
        guard parts.count == 3, parts.allSatisfy({ $0.allSatisfy(\.isNumber) }) else { return nil }
        let (day, month, year) = text.contains("-") ? (parts[2], parts[1], parts[0]) : (parts[0], parts[1], parts[2])
        guard year.count == 4, let d = Int(day), let m = Int(month) else { return nil }
        let iso = "\(year)-\(m < 10 ? "0" : "")\(m)-\(d < 10 ? "0" : "")\(d)"
        return ThreadPresenter.day(iso) == nil ? nil : iso
    }

    /// How a stored value is shown in the form (dates as `31.12.1990` in German, `31/12/1990` in English).
    static func display(_ item: String, _ value: String, locale: AppLocale) -> String {
        guard item == "birthDate" else { return value }
        let parts = value.split(separator: "-")
        guard parts.count == 3 else { return value }
        return locale == .de ? "\(parts[2]).\(parts[1]).\(parts[0])" : "\(parts[2])/\(parts[1])/\(parts[0])"
    }
}
