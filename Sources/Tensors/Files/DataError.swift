/// Everything that can go wrong between files on disk and tensors, each saying what and where.
public struct DataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file (or archive member) concerned.
    public let source: String
    /// What is wrong with it.
    public let reason: String

    public init(_ source: String, _ reason: String) {
        self.source = source
        self.reason = reason
    }

    public var description: String { "\(source): \(reason)" }
}
