import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

/// A real OpenID Connect provider for the tests: e2e/oidc_provider.py (joserfc) on a free loopback port.
// @unchecked: every stored property is a `let`; the Process and Pipe are only touched at start and stop, which the
// test runs in sequence around the body that uses the (Sendable) HTTP client.
final class OIDCProviderProcess: @unchecked Sendable {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("e2e/oidc_provider.py")
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
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", "-c", "import joserfc"]
        check.standardError = FileHandle.nullDevice
        try check.run()
        check.waitUntilExit()
        guard check.terminationStatus == 0 else {
            if ProcessInfo.processInfo.environment["CI"] != nil { Issue.record("joserfc missing in CI; scripts/setup-debian.sh installs e2e/requirements.txt") }
            return nil
        }
        return try OIDCProviderProcess()
    }

    private init() throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script.path, "--client-id", "amtsweg", "--client-secret", "geheim", "--redirect-uri", Self.redirectURI]
        let output = Pipe()
        stdin = Pipe()
        process.standardOutput = output
        process.standardInput = stdin
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) { line.append(byte) }
        guard let text = String(data: line, encoding: .utf8), text.hasPrefix("READY "), let port = Int(text.dropFirst(6)) else {
            process.terminate()
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "OIDC provider did not start"])
        }
        self.port = port
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
