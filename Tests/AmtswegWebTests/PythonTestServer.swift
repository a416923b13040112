import Foundation
import Testing

/// Starts a Python test server from e2e/ that prints `READY <port>` and serves until its stdin closes.
enum PythonTestServer {
    /// The repository's e2e folder.
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("e2e")

    /// Whether Python can import `module`; records an issue in CI when it cannot (setup-debian.sh installs it).
    static func hasModule(_ module: String) throws -> Bool {
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", "-c", "import \(module)"]
        check.standardError = FileHandle.nullDevice
        try check.run()
        check.waitUntilExit()
        if check.terminationStatus != 0, ProcessInfo.processInfo.environment["CI"] != nil {
            Issue.record("Python module \(module) missing in CI; scripts/setup-debian.sh installs e2e/requirements.txt")
        }
        return check.terminationStatus == 0
    }

    /// Runs `e2e/<script>` with `arguments` and waits for its `READY <port>` line.
    static func launch(_ script: String, arguments: [String]) throws -> (process: Process, stdin: Pipe, port: Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", folder.appendingPathComponent(script).path] + arguments
        let output = Pipe(), input = Pipe()
        process.standardOutput = output
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) { line.append(byte) }
        guard let text = String(data: line, encoding: .utf8), text.hasPrefix("READY "), let port = Int(text.dropFirst(6)) else {
            process.terminate()
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "\(script) did not start"])
        }
        return (process, input, port)
    }
}
