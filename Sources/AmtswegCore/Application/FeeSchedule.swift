/// An authority's fee for a service: a price for the first copy and one for each further copy.
public struct FeeSchedule: Codable, Sendable, Equatable {
    /// Fee for the first copy in euro cents.
    public let firstCopyCents: Int
    /// Fee for every further copy in euro cents.
    public let furtherCopyCents: Int

    /// Creates a schedule.
    public init(firstCopyCents: Int, furtherCopyCents: Int) {
        self.firstCopyCents = firstCopyCents
        self.furtherCopyCents = furtherCopyCents
    }

    /// The fee in cents for `copies` copies (at least one is always charged).
    public func amount(copies: Int) -> Int {
        firstCopyCents + max(0, copies - 1) * furtherCopyCents
    }
}
