extension Character {
    /// Whether this is one of 0–9 (not any Unicode digit, which `isNumber` would accept).
    public var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
