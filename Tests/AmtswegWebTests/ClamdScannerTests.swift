import Foundation
import Testing
@testable import AmtswegWeb

/// The clamd client against a real clamd on loopback (unix socket): EICAR and Debian's clam.pdf are found, clean files pass,
/// an unreachable clamd is an error (uploads are then refused, never stored unscanned).
@Suite("Malware scan with clamd", .serialized)
struct ClamdScannerTests {
    @Test("EICAR and the ClamAV test PDF are found, a clean PDF passes")
    func scans() async throws {
        guard let clamd = try ClamdProcess.start() else { return }
        defer { clamd.stop() }
        let scanner = ClamdScanner(endpoint: .unix(clamd.socketPath))
        #expect(try await scanner.scan(ClamdProcess.eicar) == .infected("Eicar-Test-Signature.UNOFFICIAL"))
        #expect(try await scanner.scan(Data(contentsOf: ClamdProcess.testPDF)) == .infected("Amtsweg.Test.ClamPDF.UNOFFICIAL"))
        #expect(try await scanner.scan(Data("%PDF-1.4\n%clean\n".utf8)) == .clean)
        // More than one INSTREAM chunk.
        #expect(try await scanner.scan(Data(repeating: 0x41, count: 200_000)) == .clean)
    }

    @Test("an unreachable clamd is an error, not a clean verdict")
    func unreachable() async {
        let scanner = ClamdScanner(endpoint: .unix("/nonexistent/clamd.sock"), timeoutSeconds: 2)
        await #expect(throws: ClamdScanner.Failure.self) { try await scanner.scan(Data("x".utf8)) }
        let tcp = ClamdScanner(endpoint: .tcp(host: "127.0.0.1", port: 9), timeoutSeconds: 2)
        await #expect(throws: ClamdScanner.Failure.self) { try await tcp.scan(Data("x".utf8)) }
    }

    @Test("configuration and replies are parsed strictly")
    func parsing() throws {
        #expect(ClamdScanner(configuration: "unix:/run/clamav/clamd.ctl")?.endpoint == .unix("/run/clamav/clamd.ctl"))
        #expect(ClamdScanner(configuration: "tcp:127.0.0.1:3310")?.endpoint == .tcp(host: "127.0.0.1", port: 3310))
        for bad in ["", "unix:", "tcp:localhost:3310", "tcp:127.0.0.1", "tcp:127.0.0.1:99999", "clamd"] {
            #expect(ClamdScanner(configuration: bad) == nil, "\(bad)")
        }
        #expect(try ClamdScanner.verdict("stream: OK\0") == .clean)
        #expect(try ClamdScanner.verdict("stream: Win.Test.EICAR_HDB-1 FOUND\0") == .infected("Win.Test.EICAR_HDB-1"))
        #expect(throws: ClamdScanner.Failure.self) { try ClamdScanner.verdict("INSTREAM size limit exceeded. ERROR\0") }
    }
}
