import Foundation

/// Files shipped inside the binary's resource bundle.
enum BundledResources {
    /// The resource directory (templates, catalogs, assistants, data, assets).
    static var directory: URL {
        Bundle.module.resourceURL!.appendingPathComponent("Resources")
    }

    /// The bytes of a resource at `path` below the resource directory.
    static func data(_ path: String) throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent(path))
    }
}
