import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

/// A real OpenID Connect provider for the tests: e2e/oidc_provider.py (joserfc) on a free loopback port.
// @unchecked: every stored property is a `let`; the Process and Pipe are only touched at start and stop, which the
// test runs in sequence around the body that uses the (Sendable) HTTP client.
final class OIDCProviderProcess: @unchecked Sendable {
    /// The redirect URI registered for the tests' client.
    static let redirectURI = "http://amtsweg.test/oidc/callback"

    let process: Process
    let stdin: Pipe
    let port: Int
    var issuer: String { "http://127.0.0.1:\(port)" }
    /// A client that does not follow redirects, so the tests can read where the provider sends the browser.
    let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))

    /// Starts the provider, or returns nil (an issue in CI) when its Python packages are missing.
    static func start() throws -> OIDCProviderProcess? {
        guard try PythonTestServer.hasModule("joserfc") else { return nil }
        return try OIDCProviderProcess()
    }

    private init() throws {
        (process, stdin, port) = try PythonTestServer.launch(
            "oidc_provider.py", arguments: ["--client-id", "amtsweg", "--client-secret", "geheim", "--redirect-uri", Self.redirectURI])
    }

    /// The `Location` the provider answers an authorization URL with (automatic login via `login_hint`).
    func authorize(_ url: String, loginHint: String) async throws -> URLComponents {
        let response = try await http.execute(HTTPClientRequest(url: url + "&login_hint=\(loginHint)"), timeout: .seconds(10))
        guard response.status == .found, let location = response.headers.first(name: "Location"), let components = URLComponents(string: location)
        else { throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "provider answered \(response.status)"]) }
        return components
    }

    /// Makes the next ID token defective (`wrong_key`, `wrong_nonce`, `wrong_aud`, `expired`, `wrong_iss`, `no_acr`).
    func setMode(_ mode: String) async throws {
        var request = HTTPClientRequest(url: "\(issuer)/_test/mode")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"mode":"\#(mode)"}"#))
        _ = try await http.execute(request, timeout: .seconds(10))
    }

    /// Stops the provider.
    func stop() async {
        try? await http.shutdown()
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
