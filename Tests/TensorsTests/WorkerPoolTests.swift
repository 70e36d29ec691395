import Foundation
import XCTest
@testable import Tensors

final class WorkerPoolTests: XCTestCase {
    /// Every chunk of every job runs exactly once, with jobs submitted back to back from two
    /// threads at once, nested inside chunks, and at odd chunk counts.
    func testEveryChunkRunsOnceUnderContention() {
        let saved = Threads.count
        Threads.count = 2
        defer { Threads.count = saved }
        let jobs = 2_000
        let results = UncheckedSendable(NSLock())
        final class Counts: @unchecked Sendable { var values: [[Int]] = [] }
        let counts = Counts()
        counts.values = (0..<(2 * jobs)).map { _ in [Int](repeating: 0, count: 7) }
        DispatchQueue.concurrentPerform(iterations: 2) { thread in
            for job in 0..<jobs {
                let row = thread * jobs + job
                let chunks = 2 + job % 6
                parallelFor(chunks: chunks) { chunk in
                    // A nested job runs on this thread when the pool is busy, or on the pool
                    // when this chunk runs serially (the other thread's job held the pool) and
                    // that job has finished: either way all its chunks finish, but they may
                    // run on two threads at once, so they count under the lock.
                    var inner = 0
                    parallelFor(chunks: 3) { _ in
                        results.value.lock()
                        inner += 1
                        results.value.unlock()
                    }
                    results.value.lock()
                    counts.values[row][chunk] += inner == 3 ? 1 : 100
                    results.value.unlock()
                }
            }
        }
        for (row, values) in counts.values.enumerated() {
            let chunks = 2 + (row % jobs) % 6
            XCTAssertEqual(Array(values.prefix(chunks)), [Int](repeating: 1, count: chunks), "job \(row)")
            XCTAssertEqual(values.dropFirst(chunks).reduce(0, +), 0, "job \(row)")
        }
    }

    /// A worker that slept (no job for a while) wakes for the next one.
    func testWorkersWakeAfterSleeping() {
        let saved = Threads.count
        Threads.count = 2
        defer { Threads.count = saved }
        for _ in 0..<3 {
            Thread.sleep(forTimeInterval: 0.05)
            let seen = UncheckedSendable(NSLock())
            var ran = Set<Int>()
            parallelFor(chunks: 4) { chunk in
                seen.value.lock(); ran.insert(chunk); seen.value.unlock()
            }
            XCTAssertEqual(ran, [0, 1, 2, 3])
        }
    }
}
