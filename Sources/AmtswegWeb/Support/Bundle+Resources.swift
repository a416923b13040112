import Foundation

/// Files shipped inside the binary's resource bundle.
enum BundledResources {
    /// The resource directory (templates, catalogs, assistants, data, assets).
    static var directory: URL {
        // SwiftPM copies the folder as "Resources" into the bundle; its location inside differs between platforms.
        Bundle.module.url(forResource: "Resources", withExtension: nil)!
    }

    /// The bytes of a resource at `path` below the resource directory.
    static func data(_ path: String) throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent(path))
    }
}
