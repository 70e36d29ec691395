import Foundation

/// Everything that can go wrong between files on disk and tensors, each saying what and where.
/// Its `localizedDescription` is its description (the file, then what is wrong with it).
public struct DataError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    /// The file (or archive member) concerned.
    public let source: String
    /// What is wrong with it.
    public let reason: String

    /// An error about `source` (a file's path, an archive member, a component's name).
    public init(_ source: String, _ reason: String) {
        self.source = source
        self.reason = reason
    }

    public var description: String { "\(source): \(reason)" }

    public var errorDescription: String? { description }
}
