import NIOCore

/// One SMTP reply: the three-digit code and its text lines.
struct SMTPReply: Sendable {
    let code: Int
    let lines: [String]
}

/// Splits the server's bytes into lines and lines into replies (`250-…` continues, `250 …` ends), and hands each
/// reply to an async stream the client reads from.
///
/// Lives on the channel's event loop only, like every channel handler.
final class SMTPReplyDecoder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let continuation: AsyncThrowingStream<SMTPReply, any Error>.Continuation
    private var buffer: [UInt8] = []
    private var lines: [String] = []
    /// A reply line is at most 512 bytes (RFC 5321 §4.5.3.1.5); anything far longer is not an SMTP server.
    private static let maxPending = 16 * 1024

    init(continuation: AsyncThrowingStream<SMTPReply, any Error>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer += incoming.readBytes(length: incoming.readableBytes) ?? []
        while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
            var line = Array(buffer[..<newline])
            buffer.removeSubrange(...newline)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            guard line.count >= 3, let code = Int(String(decoding: line.prefix(3), as: UTF8.self)), (200...599).contains(code) else {
                fail(context, SMTPError.protocolViolation("reply without a code"))
                return
            }
            let text = line.count > 4 ? String(decoding: line.dropFirst(4), as: UTF8.self) : ""
            lines.append(text)
            if line.count < 4 || line[3] != UInt8(ascii: "-") {
                continuation.yield(SMTPReply(code: code, lines: lines))
                lines = []
            }
        }
        if buffer.count > Self.maxPending { fail(context, SMTPError.protocolViolation("reply line too long")) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context, SMTPError.unavailable("connection error"))
    }

    private func fail(_ context: ChannelHandlerContext, _ error: SMTPError) {
        continuation.finish(throwing: error)
        context.close(promise: nil)
    }
}

/// Why a mail could not be sent. Carries reply codes and the step, never the server's text (it may quote addresses).
public enum SMTPError: Error, Equatable, CustomStringConvertible {
    /// A 5xx reply: trying again will not help.
    case rejected(code: Int, step: String)
    /// A 4xx reply: try again later.
    case deferred(code: Int, step: String)
    /// No connection, TLS failure, timeout or the server hung up.
    case unavailable(String)
    /// The peer does not speak SMTP as expected.
    case protocolViolation(String)

    /// Whether retrying cannot succeed.
    public var isPermanent: Bool {
        if case .rejected = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case let .rejected(code, step): "SMTP \(code) at \(step)"
        case let .deferred(code, step): "SMTP \(code) (temporary) at \(step)"
        case let .unavailable(reason): "SMTP server unavailable: \(reason)"
        case let .protocolViolation(reason): "SMTP protocol violation: \(reason)"
        }
    }
}
