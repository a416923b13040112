import Foundation

/// A file received with a page, before it is stored.
public struct UploadedFile: Sendable, Equatable {
    /// The name the browser sent; only shown, never used as a path.
    public let filename: String
    /// The bytes.
    public let data: Data

    /// Creates an upload.
    public init(filename: String, data: Data) {
        self.filename = filename
        self.data = data
    }
}

/// Recognises the media type of a file by its first bytes, not by its name.
public enum MediaTypeSniffer {
    /// `application/pdf`, `image/png`, `image/jpeg` or nil.
    public static func mediaType(of data: Data) -> String? {
        let bytes = [UInt8](data.prefix(8))
        if bytes.starts(with: [0x25, 0x50, 0x44, 0x46, 0x2D]) { return "application/pdf" }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        return nil
    }
}
