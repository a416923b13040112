import Foundation

/// A plain-text mail, rendered as an RFC 5322 message with a UTF-8, quoted-printable body.
public struct MailMessage: Sendable, Equatable {
    /// Envelope and header sender address.
    public let from: String
    /// Display name of the sender (may contain umlauts).
    public let fromName: String
    public let to: String
    public let subject: String
    public let text: String
    /// Unique id, also the Message-ID's left part.
    public let id: String

    /// Creates a message.
    public init(from: String, fromName: String, to: String, subject: String, text: String, id: String = UUID().uuidString.lowercased()) {
        self.from = from
        self.fromName = fromName
        self.to = to
        self.subject = subject
        self.text = text
        self.id = id
    }

    /// The message as sent in DATA: CRLF line ends, headers, blank line, quoted-printable body (not yet dot-stuffed).
    public func rendered(date: Date = Date()) -> String {
        let domain = from.split(separator: "@").last.map(String.init) ?? "amtsweg.invalid"
        let headers = [
            "From: \(Self.encodedWord(fromName)) <\(from)>",
            "To: <\(to)>",
            "Subject: \(Self.encodedWord(subject))",
            "Date: \(Self.rfc5322Date(date))",
            "Message-ID: <\(id)@\(domain)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: quoted-printable",
            // Tells mail servers and autoresponders this is machine-sent (RFC 3834): no vacation replies.
            "Auto-Submitted: auto-generated",
        ]
        return headers.joined(separator: "\r\n") + "\r\n\r\n" + Self.quotedPrintable(text)
    }

    /// RFC 2047 encoded word (base64) when `text` is not plain printable ASCII.
    static func encodedWord(_ text: String) -> String {
        let plain = text.unicodeScalars.allSatisfy { $0.value >= 32 && $0.value < 127 && $0 != "=" && $0 != "?" }
        return plain ? text : "=?UTF-8?B?\(Data(text.utf8).base64EncodedString())?="
    }

    /// Quoted-printable (RFC 2045 §6.7) of UTF-8 text: lines end in CRLF, none longer than 76 characters.
    static func quotedPrintable(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var lines: [String] = []
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n")
        for line in normalized.split(separator: "\n", omittingEmptySubsequences: false) {
            let bytes = Array(line.utf8)
            var out: [UInt8] = [], width = 0
            for (index, byte) in bytes.enumerated() {
                let isLast = index == bytes.count - 1
                let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")) || ((byte == 32 || byte == 9) && !isLast)
                let piece: [UInt8] = literal ? [byte] : [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
                if width + piece.count > 75 {
                    out += Array("=\r\n".utf8)
                    width = 0
                }
                out += piece
                width += piece.count
            }
            lines.append(String(decoding: out, as: UTF8.self))
        }
        return lines.joined(separator: "\r\n")
    }

    /// `Sat, 21 Nov 2026 19:30:00 +0000`.
    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.string(from: date)
    }
}
