import Foundation

/// The message catalog of one locale: flat dotted keys to message templates with `{name}` placeholders.
public struct MessageCatalog: Sendable {
    /// The locale the messages are written in.
    public let locale: AppLocale
    /// Key to template.
    public let messages: [String: String]

    /// Creates a catalog from already-parsed messages.
    public init(locale: AppLocale, messages: [String: String]) {
        self.locale = locale
        self.messages = messages
    }

    /// Parses a catalog from JSON; nested objects are flattened into dotted keys.
    public init(locale: AppLocale, json: Data) throws {
        let object = try JSONSerialization.jsonObject(with: json)
        var flat: [String: String] = [:]
        func walk(_ value: Any, prefix: String) throws {
            if let dict = value as? [String: Any] {
                for (key, child) in dict { try walk(child, prefix: prefix.isEmpty ? key : "\(prefix).\(key)") }
            } else if let text = value as? String {
                flat[prefix] = text
            } else {
                throw CatalogError.notAString(key: prefix)
            }
        }
        try walk(object, prefix: "")
        self.init(locale: locale, messages: flat)
    }
}

/// Why a catalog could not be loaded.
public enum CatalogError: Error, Equatable, CustomStringConvertible {
    case notAString(key: String)
    case missingKeys(locale: AppLocale, keys: [String])

    public var description: String {
        switch self {
        case .notAString(let key): return "catalog entry \(key) is not a string"
        case .missingKeys(let locale, let keys): return "catalog \(locale.rawValue) misses keys: \(keys.joined(separator: ", "))"
        }
    }
}

/// Looks up and formats user-visible messages for one locale.
public struct Translator: Sendable {
    /// The locale this translator renders.
    public let locale: AppLocale
    private let catalog: MessageCatalog
    private let fallback: MessageCatalog?

    /// Creates a translator; keys missing in `catalog` are looked up in `fallback`.
    public init(catalog: MessageCatalog, fallback: MessageCatalog? = nil) {
        self.locale = catalog.locale
        self.catalog = catalog
        self.fallback = fallback
    }

    /// The message for `key` with `{name}` placeholders replaced; the key itself if it is unknown.
    public func callAsFunction(_ key: String, _ arguments: [String: String] = [:]) -> String {
        let template = catalog.messages[key] ?? fallback?.messages[key] ?? key
        guard !arguments.isEmpty, template.contains("{") else { return template }
        var result = ""
        result.reserveCapacity(template.count)
        var index = template.startIndex
        while index < template.endIndex {
            let character = template[index]
            if character == "{", let close = template[index...].firstIndex(of: "}") {
                let name = String(template[template.index(after: index)..<close])
                if let value = arguments[name] {
                    result += value
                    index = template.index(after: close)
                    continue
                }
            }
            result.append(character)
            index = template.index(after: index)
        }
        return result
    }

    /// A count-dependent message: looks up `key.one` or `key.other` by the CLDR plural rule of the locale.
    public func plural(_ key: String, count: Int, _ arguments: [String: String] = [:]) -> String {
        var args = arguments
        args["count"] = String(count)
        return self("\(key).\(PluralRule.category(for: count, locale: locale))", args)
    }

    /// A money amount in euro cents formatted for the locale, e.g. "18,00 €" or "€18.00".
    public func euros(cents: Int) -> String {
        let value = Decimal(cents) / 100
        return value.formatted(.currency(code: "EUR").locale(Locale(identifier: locale == .de ? "de_DE" : "en_GB")))
    }

    /// A calendar date formatted for the locale, e.g. "12.03.1990" or "12 March 1990".
    public func date(_ date: Date) -> String {
        var style = Date.FormatStyle(date: .long, time: .omitted)
        style.locale = Locale(identifier: locale == .de ? "de_DE" : "en_GB")
        style.timeZone = TimeZone(identifier: "Europe/Berlin") ?? .gmt
        return date.formatted(style)
    }

    /// A point in time formatted for the locale in German civil time.
    public func dateTime(_ date: Date) -> String {
        var style = Date.FormatStyle(date: .long, time: .shortened)
        style.locale = Locale(identifier: locale == .de ? "de_DE" : "en_GB")
        style.timeZone = TimeZone(identifier: "Europe/Berlin") ?? .gmt
        return date.formatted(style)
    }
}

/// CLDR cardinal plural categories for the supported languages.
public enum PluralRule {
    /// The CLDR category ("one", "few", "many", "other") of `count` in `locale`.
    public static func category(for count: Int, locale: AppLocale) -> String {
        switch locale {
        case .de, .en: return count == 1 ? "one" : "other"
        }
    }
}
