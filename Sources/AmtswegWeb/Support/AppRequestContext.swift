import AmtswegCore
import AmtswegStorage
import Hummingbird

/// Per-request state: the locale of the page and, once loaded, the browser session.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Language of the response.
    public var locale: AppLocale = .fallback
    /// The peer's IP address, for throttling; never logged.
    public let remoteIP: String

    /// Creates the context for a new request.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteIP = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// Bodies are collected explicitly with per-route limits; this is the ceiling for decoding helpers.
    public var maxUploadSize: Int { 6 * 1024 * 1024 }
}
