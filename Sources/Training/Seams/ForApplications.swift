// What Training offers the applications (Vision, Tabular, Collab) that extend the Learner:
// running their own operations on it under the learner's one-at-a-time rule.
//
// Clients: Vision, Tabular, Collab.

extension Learner {
    /// Runs `body` as the learner's one operation: a call from another thread waits until the
    /// running one (a fit, a prediction, a save) returns; the thread running it may call in
    /// again (a callback's `getPreds` in the middle of a fit).
    package func exclusively<T>(_ body: () throws -> T) rethrows -> T {
        operationLock.lock()
        defer { operationLock.unlock() }
        return try body()
    }
}
