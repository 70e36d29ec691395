import Dispatch
import Foundation

/// How many threads FastSwift's parallel kernels use.
///
/// The default is every core the process may use (`ProcessInfo.activeProcessorCount`), or the
/// value of the `FASTSWIFT_THREADS` environment variable when it is set. Every parallel kernel
/// (GEMM, large element-wise ops and reductions) reads this setting when it starts, so a change
/// takes effect from the next op on.
///
///     Threads.count = 1   // run every kernel on one core
public enum Threads {
    private static let storage = LockedValue(defaultCount())

    /// The number of threads parallel kernels split their work over; always at least 1.
    public static var count: Int {
        get { storage.value }
        set { storage.value = max(1, newValue) }
    }

    private static func defaultCount() -> Int {
        if let text = ProcessInfo.processInfo.environment["FASTSWIFT_THREADS"], let n = Int(text), n > 0 {
            return n
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }
}

/// A value behind a lock, for the few pieces of global state (thread count, random generator).
final class LockedValue<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var _value: Value

    init(_ value: Value) { _value = value }

    var value: Value {
        get { lock.lock(); defer { lock.unlock() }; return _value }
        set { lock.lock(); _value = newValue; lock.unlock() }
    }

    /// Runs `body` with exclusive access to the value.
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock(); defer { lock.unlock() }
        return try body(&_value)
    }
}

/// Runs `body(chunk)` for `chunk` in `0..<chunks` on up to `Threads.count` threads (the
/// caller's and `WorkerPool`'s), and returns when all have finished. With one chunk or one
/// thread, or while the pool runs another job, the chunks run in order on the caller's thread.
///
/// Callers choose `chunks` so that each is worth a thread: waking a worker costs about a
/// microsecond when it is spinning, tens when it sleeps, so work under about 50 µs in total
/// should pass `chunks: 1`.
@inline(__always)
func parallelFor(chunks: Int, _ body: (Int) -> Void) {
    if chunks <= 1 {
        if chunks == 1 { body(0) }
        return
    }
    let threads = Threads.count
    if threads > 1 && WorkerPool.shared.run(chunks: chunks, threads: threads, body) { return }
    for chunk in 0..<chunks { body(chunk) }
}

/// Splits `0..<count` into `parts` contiguous ranges whose lengths differ by at most one,
/// each a multiple of `granule` except possibly the last.
@inline(__always)
func splitRange(_ count: Int, parts: Int, part: Int, granule: Int = 1) -> Range<Int> {
    let units = (count + granule - 1) / granule
    let base = units / parts, extra = units % parts
    let startUnit = part * base + min(part, extra)
    let endUnit = startUnit + base + (part < extra ? 1 : 0)
    return min(count, startUnit * granule)..<min(count, endUnit * granule)
}

/// How many threads a kernel doing `work` units of work (roughly, floating-point operations or
/// bytes touched) should use: one below `threshold`, otherwise up to `Threads.count`.
@inline(__always)
func threadsFor(work: Int, threshold: Int = 1 << 16) -> Int {
    work < threshold ? 1 : min(Threads.count, max(1, work / threshold))
}

/// Wraps a value that is safe to share across the threads of one `parallelFor` call
/// (raw pointers into disjoint regions, non-escaping closures).
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
