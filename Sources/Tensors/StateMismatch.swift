/// Saved state (a model's weights and buffers, an optimizer's moments, a checkpoint) that does
/// not fit what it is loaded into: one line per missing, unexpected or mis-shaped tensor. The one
/// error every layer's `loadStateDict` throws; nothing is changed when it is thrown.
public struct StateMismatch: Error, CustomStringConvertible {
    public let problems: [String]
    public init(_ problems: [String]) { self.problems = problems }
    public var description: String { "the saved state does not match:\n  " + problems.joined(separator: "\n  ") }
}
