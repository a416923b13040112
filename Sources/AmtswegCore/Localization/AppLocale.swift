/// A user-interface language the portal offers; German is the source language.
public enum AppLocale: String, CaseIterable, Sendable, Codable {
    case de
    case en

    /// The language the portal falls back to.
    public static let fallback: AppLocale = .de

    /// The BCP 47 tag used for `<html lang>` and for Foundation formatting.
    public var tag: String { rawValue }

    /// Picks the best supported locale from an `Accept-Language` header value.
    public static func negotiate(acceptLanguage: String?) -> AppLocale {
        guard let header = acceptLanguage else { return fallback }
        var best: (AppLocale, Double)?
        for part in header.split(separator: ",") {
            let pieces = part.split(separator: ";")
            guard let rangeText = pieces.first else { continue }
            let range = rangeText.trimmingCharacters(in: .whitespaces).lowercased()
            let primary = String(range.split(separator: "-").first ?? "")
            var quality = 1.0
            for parameter in pieces.dropFirst() {
                let kv = parameter.trimmingCharacters(in: .whitespaces)
                if kv.hasPrefix("q="), let q = Double(kv.dropFirst(2)) { quality = q }
            }
            guard let locale = AppLocale(rawValue: primary), quality > 0 else { continue }
            if best == nil || quality > best!.1 { best = (locale, quality) }
        }
        return best?.0 ?? fallback
    }
}
