import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Scans uploads for malware with ClamAV's clamd, over its INSTREAM protocol on a unix socket or TCP.
public struct ClamdScanner: Sendable {
    /// Where clamd listens.
    public enum Endpoint: Sendable, Equatable {
        /// A unix socket path (clamd's LocalSocket).
        case unix(String)
        /// An IPv4 address and port (clamd's TCPSocket/TCPAddr).
        case tcp(host: String, port: UInt16)
    }

    /// What clamd found.
    public enum Verdict: Sendable, Equatable {
        case clean
        /// Malware, with clamd's signature name.
        case infected(String)
    }

    /// clamd could not be asked or gave no usable answer.
    public struct Failure: Error, CustomStringConvertible, Equatable {
        /// What went wrong (no file content).
        public let description: String
    }

    /// The endpoint.
    public let endpoint: Endpoint
    /// Seconds to wait for connect, send and answer.
    public let timeoutSeconds: Int

    /// Creates a scanner for `endpoint`.
    public init(endpoint: Endpoint, timeoutSeconds: Int = 30) {
        self.endpoint = endpoint
        self.timeoutSeconds = timeoutSeconds
    }

    /// Parses `unix:/run/clamav/clamd.ctl` or `tcp:127.0.0.1:3310` (as in AMTSWEG_CLAMD); nil when malformed.
    public init?(configuration text: String) {
        if text.hasPrefix("unix:"), text.count > 5 {
            self.init(endpoint: .unix(String(text.dropFirst(5))))
        } else if text.hasPrefix("tcp:"), let colon = text.lastIndex(of: ":"), colon > text.index(text.startIndex, offsetBy: 4),
                  let port = UInt16(text[text.index(after: colon)...]) {
            let host = String(text[text.index(text.startIndex, offsetBy: 4)..<colon])
            var address = in_addr()
            guard inet_pton(AF_INET, host, &address) == 1 else { return nil }
            self.init(endpoint: .tcp(host: host, port: port))
        } else {
            return nil
        }
    }

    /// Scans `data`; throws `Failure` when clamd cannot be reached or answers with an error.
    public func scan(_ data: Data) async throws -> Verdict {
        try await withCheckedThrowingContinuation { continuation in
            // The socket calls block; they run on a global queue, never on the server's event loops.
            DispatchQueue.global().async {
                continuation.resume(with: Result { try scanBlocking(data) })
            }
        }
    }

    /// The blocking INSTREAM exchange.
    func scanBlocking(_ data: Data) throws -> Verdict {
        let socket = try connect()
        defer { close(socket) }
        try send(socket, Array("zINSTREAM\0".utf8))
        var offset = 0
        let chunk = 64 * 1024
        let bytes = [UInt8](data)
        repeat {
            let end = min(offset + chunk, bytes.count)
            let length = UInt32(end - offset).bigEndian
            try send(socket, withUnsafeBytes(of: length) { Array($0) } + bytes[offset..<end])
            offset = end
        } while offset < bytes.count
        try send(socket, [0, 0, 0, 0])
        let reply = try receive(socket)
        return try Self.verdict(reply)
    }

    /// The verdict of a clamd INSTREAM reply such as `stream: OK` or `stream: Eicar-Test-Signature FOUND`.
    static func verdict(_ reply: String) throws -> Verdict {
        let text = reply.trimmingCharacters(in: CharacterSet(charactersIn: "\0\n "))
        guard text.hasPrefix("stream: ") else { throw Failure(description: "unexpected clamd reply") }
        let body = text.dropFirst("stream: ".count)
        if body == "OK" { return .clean }
        if body.hasSuffix(" FOUND") { return .infected(String(body.dropLast(" FOUND".count))) }
        throw Failure(description: "clamd error: \(body.prefix(120))")
    }

    private func connect() throws -> Int32 {
        let family = endpoint.isUnix ? AF_UNIX : AF_INET
        let socket = Glibc.socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw Failure(description: "cannot create socket") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let result: Int32
        switch endpoint {
        case .unix(let path):
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let pathBytes = Array(path.utf8)
            guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
                close(socket)
                throw Failure(description: "clamd socket path too long")
            }
            withUnsafeMutableBytes(of: &address.sun_path) { buffer in
                buffer.copyBytes(from: pathBytes)
                buffer[pathBytes.count] = 0
            }
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
        case .tcp(let host, let port):
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            inet_pton(AF_INET, host, &address.sin_addr)
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        guard result == 0 else {
            close(socket)
            throw Failure(description: "cannot connect to clamd")
        }
        return socket
    }

    private func send(_ socket: Int32, _ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let written = bytes[sent...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw Failure(description: "clamd closed the connection while receiving") }
            sent += written
        }
    }

    private func receive(_ socket: Int32) throws -> String {
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        while reply.count < 4096 {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            reply += buffer[0..<count]
            if reply.contains(0) { break }
        }
        guard !reply.isEmpty else { throw Failure(description: "no answer from clamd") }
        return String(decoding: reply.prefix { $0 != 0 }, as: UTF8.self)
    }
}

extension ClamdScanner.Endpoint {
    /// Whether this is a unix socket.
    var isUnix: Bool { if case .unix = self { return true } else { return false } }
}
