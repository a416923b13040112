import AmtswegCore
import Foundation
import Testing

/// A throw-away clamd on a unix socket in a temporary folder, with a signature database made only of the EICAR test
/// string and Debian's clamav-testfiles clam.pdf (SHA-256 hash signatures: the real databases need the internet).
final class ClamdProcess {
    /// The EICAR anti-malware test string (68 bytes), built from parts so this source file is not itself flagged.
    static let eicar = Data(("X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*").utf8)
    /// Debian's ClamAV test PDF.
    static let testPDF = URL(fileURLWithPath: "/usr/share/clamav-testfiles/clam.pdf")
    /// The daemon binary.
    static let binary = "/usr/sbin/clamd"

    let folder: URL
    let process: Process
    /// The socket clamd listens on.
    let socketPath: String

    /// Starts clamd, or returns nil (recording an issue in CI) when it or the test files are not installed.
    static func start() throws -> ClamdProcess? {
        guard FileManager.default.isExecutableFile(atPath: binary), FileManager.default.fileExists(atPath: testPDF.path) else {
            if ProcessInfo.processInfo.environment["CI"] != nil {
                Issue.record("clamd or clamav-testfiles missing in CI; scripts/setup-debian.sh installs clamav-daemon and clamav-testfiles")
            }
            return nil
        }
        return try ClamdProcess()
    }

    private init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("clamd-\(UUID().uuidString.prefix(8))")
        let database = folder.appendingPathComponent("db")
        try FileManager.default.createDirectory(at: database, withIntermediateDirectories: true)
        let pdf = try Data(contentsOf: Self.testPDF)
        let signatures = "\(SecureToken.sha256Hex(Self.eicar)):\(Self.eicar.count):Eicar-Test-Signature\n"
            + "\(SecureToken.sha256Hex(pdf)):\(pdf.count):Amtsweg.Test.ClamPDF\n"
        try signatures.write(to: database.appendingPathComponent("amtsweg-test.hsb"), atomically: true, encoding: .utf8)
        socketPath = folder.appendingPathComponent("clamd.sock").path
        let configuration = """
            LocalSocket \(socketPath)
            DatabaseDirectory \(database.path)
            Foreground yes
            LogFile \(folder.appendingPathComponent("clamd.log").path)
            """
        let configurationFile = folder.appendingPathComponent("clamd.conf")
        try configuration.write(to: configurationFile, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["-c", configurationFile.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: socketPath) {
            guard process.isRunning, Date() < deadline else {
                process.terminate()
                throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "clamd did not open its socket"])
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// Stops clamd and removes its folder.
    func stop() {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: folder)
    }
}
