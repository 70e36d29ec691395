import Foundation
import Synchronization

/// The threads behind `parallelFor`: workers that stay awake (spinning) for a moment after each
/// job, so that the next kernel of a training step starts on them within a microsecond or so
/// instead of waiting for a sleeping thread to be woken (tens of microseconds through Dispatch,
/// which a ResNet step pays hundreds of times and a small MLP step dozens).
///
/// One job runs at a time. A `parallelFor` called while the pool is busy (from a chunk of
/// another job, or from a second thread such as a data loader's) runs its chunks on its own
/// thread, one after another. Chunks are claimed by whoever is free, but each chunk computes
/// the same thing whichever thread runs it, so results never depend on the schedule.
///
/// Memory ordering (checked by `.ci/sanitize`'s thread-sanitizer pass):
/// - `state`, `pending`: atomics, every access sequentially consistent.
/// - `busy`: an atomic flag, taken by compare-exchange (acquiring) and cleared by a releasing store.
/// - `sleepers`: read and written only while `wake` is locked.
/// - `body`: a plain variable, safe because each access is ordered by the atomics around it.
///   The submitter writes it *before* its store to `state` that announces the job, and a worker
///   reads it only *after* a successful compare-exchange on `state` for that job (that exchange
///   reads the announcing store, so the write happens-before the read). The submitter clears it
///   only *after* `pending` reaches 0, and every worker's read precedes its own decrement of
///   `pending`, so every read happens-before the clearing write. No worker can claim a chunk of a
///   finished job (`next == chunks` in the job word), and a claim of a later job reads that job's
///   body: the exchange compares the whole word, generation included.
/// - No lost wake-up: the submitter stores `state` before it locks `wake` to look at `sleepers`,
///   and a worker counts itself in `sleepers` and re-reads `state` under the same lock before it
///   waits, so either the worker sees the new generation or the submitter sees the sleeper.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// The job word: generation (24 bits) | chunk count (20 bits) | next chunk to claim (20 bits).
    private let state = Atomic<UInt64>(0)
    /// Chunks of the current job not yet finished.
    private let pending = Atomic<Int>(0)
    /// The current job's body: written by the submitter before the job word announces it, read
    /// by a worker after it claims a chunk, cleared after every chunk is done (see above).
    private nonisolated(unsafe) var body: ((Int) -> Void)?
    /// Whether a job is running. An atomic, not a `Mutex`: the thread sanitizer cannot see the
    /// `Mutex`'s contended path (a futex in the uninstrumented Synchronization library) and
    /// reported the flag's hand-over between two submitters as a race.
    private let busy = Atomic<Bool>(false)
    /// Sleeping workers wait on this for a new generation.
    private let wake = NSCondition()
    /// Workers asleep on `wake`; only touched with `wake` locked.
    private nonisolated(unsafe) var sleepers = 0
    private let workerCount = Mutex<Int>(0)

    /// Spin iterations a worker waits for new work before it sleeps (roughly a millisecond).
    private static let spinLimit = 400_000
    private static let chunkBits: UInt64 = 20, chunkMask: UInt64 = (1 << 20) - 1

    private static func generation(_ s: UInt64) -> UInt64 { s >> (2 * chunkBits) }
    private static func chunks(_ s: UInt64) -> Int { Int((s >> chunkBits) & chunkMask) }
    private static func next(_ s: UInt64) -> Int { Int(s & chunkMask) }

    /// Runs `body(0..<chunks)` on the calling thread and up to `threads - 1` workers; returns
    /// when every chunk has finished. Returns false (running nothing) when the pool is busy or
    /// the job is too large for the job word; the caller then runs the chunks itself.
    func run(chunks: Int, threads: Int, _ body: (Int) -> Void) -> Bool {
        guard chunks < Int(Self.chunkMask), busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        defer { busy.store(false, ordering: .releasing) }
        ensureWorkers(threads - 1)
        withoutActuallyEscaping(body) { body in
            self.body = body
            pending.store(chunks, ordering: .sequentiallyConsistent)
            let old = state.load(ordering: .sequentiallyConsistent)
            let generation = (Self.generation(old) + 1) & ((1 << 24) - 1)
            state.store(generation << (2 * Self.chunkBits) | UInt64(chunks) << Self.chunkBits, ordering: .sequentiallyConsistent)
            wake.lock()
            if sleepers > 0 { wake.broadcast() }
            wake.unlock()
            claimAndRun(generation: generation)
            while pending.load(ordering: .sequentiallyConsistent) > 0 {}
            self.body = nil
        }
        return true
    }

    /// Runs chunks of job `generation` until none is left to claim.
    private func claimAndRun(generation: UInt64) {
        var s = state.load(ordering: .sequentiallyConsistent)
        while Self.generation(s) == generation && Self.next(s) < Self.chunks(s) {
            let (exchanged, current) = state.compareExchange(expected: s, desired: s + 1, ordering: .sequentiallyConsistent)
            if exchanged {
                body!(Self.next(s))
                pending.subtract(1, ordering: .sequentiallyConsistent)
                s = state.load(ordering: .sequentiallyConsistent)
            } else {
                s = current
            }
        }
    }

    private func ensureWorkers(_ wanted: Int) {
        workerCount.withLock { count in
            while count < wanted {
                let thread = Thread { [unowned self] in self.workerLoop() }
                thread.name = "FastSwift worker \(count + 1)"
                thread.start()
                count += 1
            }
        }
    }

    private func workerLoop() {
        var seen = Self.generation(state.load(ordering: .sequentiallyConsistent))
        while true {
            var spins = 0
            var s = state.load(ordering: .sequentiallyConsistent)
            while Self.generation(s) == seen {
                spins += 1
                if spins >= Self.spinLimit {
                    wake.lock()
                    sleepers += 1
                    while Self.generation(state.load(ordering: .sequentiallyConsistent)) == seen { wake.wait() }
                    sleepers -= 1
                    wake.unlock()
                    spins = 0
                }
                s = state.load(ordering: .sequentiallyConsistent)
            }
            seen = Self.generation(s)
            claimAndRun(generation: seen)
        }
    }
}
