import Foundation
import Testing

/// A real SMTP server for the tests: e2e/smtp_sink_server.py (aiosmtpd) on a free loopback port, writing each
/// accepted message to a temporary folder.
final class SMTPSinkProcess {
    /// A message as the server received it.
    struct Received: Decodable {
        let mail_from: String
        let rcpt_tos: [String]
        let data: String
        let tls: Bool
        let authenticated: Bool
    }

    let folder: URL
    let process: Process
    let stdin: Pipe
    let port: Int

    /// Starts the server, or returns nil (an issue in CI) when Python's aiosmtpd is missing.
    static func start(failNext: Int = 0, tls: (cert: String, key: String)? = nil, requireAuth: Bool = false) throws -> SMTPSinkProcess? {
        guard try PythonTestServer.hasModule("aiosmtpd") else { return nil }
        return try SMTPSinkProcess(failNext: failNext, tls: tls, requireAuth: requireAuth)
    }

    private init(failNext: Int, tls: (cert: String, key: String)?, requireAuth: Bool) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-sink-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var arguments = ["--dir", folder.path, "--fail-next", String(failNext)]
        if let tls { arguments += ["--tls-cert", tls.cert, "--tls-key", tls.key] }
        if requireAuth { arguments.append("--require-auth") }
        (process, stdin, port) = try PythonTestServer.launch("smtp_sink_server.py", arguments: arguments)
    }

    /// Messages received so far, in order.
    func received() throws -> [Received] {
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }
            .sorted { Int($0.dropLast(5))! < Int($1.dropLast(5))! }
        return try files.map { try JSONDecoder().decode(Received.self, from: Data(contentsOf: folder.appendingPathComponent($0))) }
    }

    /// Stops the server and removes its folder.
    func stop() {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: folder)
    }
}

/// A self-signed certificate for 127.0.0.1 and localhost, made with openssl in a temporary folder.
func makeTestCertificate() throws -> (cert: String, key: String) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cert-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let cert = folder.appendingPathComponent("cert.pem").path, key = folder.appendingPathComponent("key.pem").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
    return (cert, key)
}
