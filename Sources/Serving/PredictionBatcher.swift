import Foundation
import Tensors
import Training
import Vision

/// Runs a classifier for many callers at once, on one thread that owns the model.
///
/// With batching on, requests that are queued together share one forward pass. A lone request
/// runs at once; under load a pass first waits briefly for more, so that a crowd fills batches:
/// for the requests being prepared (at most `window`), and for those that keep arriving within
/// a millisecond of each other (at most a tenth of the last pass's time). A pass takes up to `maxBatch` items in a few sizes only (powers of two,
/// the last ones padded with zeros when that wastes little, otherwise left for the next pass
/// with the newcomers), so the model's inference plans are made for a handful of batch sizes.
/// With batching off, one request per pass. Callers wait for their own answer.
public final class PredictionBatcher: @unchecked Sendable {
    private let learner: InferenceLearner
    private let window: Double
    private let maxBatch: Int
    private let batching: Bool
    private let condition = NSCondition()
    private var queue: [Pending] = []
    /// Requests being prepared (decoded, resized) that will be queued in a moment.
    private var arriving = 0
    /// When the last request was queued.
    private var lastArrival = Date.distantPast
    /// The size, end and duration of the last pass.
    private var lastPassItems = 0
    private var lastPassEnd = Date.distantPast
    private var lastPassSeconds = 0.0
    /// How many forward passes have run (what the tests read to see requests share them).
    private(set) var passes = 0
    /// The pause in arrivals that ends a wait for more requests.
    private static let gap = 0.001
    private var stopped = false

    private final class Pending: @unchecked Sendable {
        let input: Tensor
        let queued = Date()
        var result: ImagePrediction?
        let done = DispatchSemaphore(value: 0)
        init(_ input: Tensor) { self.input = input }
    }

    /// A batcher for a loaded classifier.
    ///
    /// - Parameters:
    ///   - learner: the loaded classifier; its model runs on the batcher's thread only.
    ///   - batching: share forward passes between requests (off: one request per pass).
    ///   - window: the longest a pass waits for more requests, in seconds.
    ///   - maxBatch: the most items in one pass.
    public init(_ learner: InferenceLearner, batching: Bool = true, window: Double = 0.01, maxBatch: Int = 64) {
        self.learner = learner
        self.batching = batching
        self.window = window
        self.maxBatch = max(1, maxBatch)
        let thread = Thread { [self] in run() }
        thread.name = "fastswift-predict"
        thread.start()
    }

    /// The prediction for one prepared input `[1, C, H, W]` (blocks until its pass has run).
    public func predict(_ input: Tensor) -> ImagePrediction { predict { input } }

    /// The prediction for the input `prepare` makes (`[1, C, H, W]`); while it runs, the pass
    /// being gathered waits for it. Rethrows `prepare`'s error.
    public func predict(_ prepare: () throws -> Tensor) rethrows -> ImagePrediction {
        condition.lock()
        arriving += 1
        condition.unlock()
        let pending: Pending
        do {
            pending = Pending(try prepare())
        } catch {
            condition.lock()
            arriving -= 1
            condition.signal()
            condition.unlock()
            throw error
        }
        condition.lock()
        arriving -= 1
        queue.append(pending)
        lastArrival = pending.queued
        condition.signal()
        condition.unlock()
        pending.done.wait()
        return pending.result!
    }

    /// Stops the model thread once the queue is empty.
    public func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopped { condition.wait() }
            if queue.isEmpty && stopped {
                condition.unlock()
                return
            }
            if batching {
                // A lone request runs at once. Under load, a pass first waits for the requests
                // being prepared (at most `window`) and for those that keep coming, each within
                // `gap` of the last or of the end of the last pass (its callers returning), for
                // at most a tenth of a pass's time, so that a wait that brings nobody costs little.
                let start = Date()
                let preparedBy = start.addingTimeInterval(window)
                let lingerUntil = start.addingTimeInterval(min(window, 0.1 * lastPassSeconds))
                while queue.count < maxBatch {
                    let now = Date(), quiet = max(lastArrival, lastPassEnd).addingTimeInterval(Self.gap)
                    if arriving > 0 && now < preparedBy {
                        _ = condition.wait(until: preparedBy)
                    } else if lastPassItems > 1 && now < lingerUntil && now < quiet {
                        _ = condition.wait(until: min(lingerUntil, quiet))
                    } else {
                        break
                    }
                }
            }
            let (take, padded) = batching ? Self.passSize(queued: queue.count, maxBatch: maxBatch) : (1, 1)
            let batch = Array(queue.prefix(take))
            queue.removeFirst(take)
            condition.unlock()
            let started = Date()
            let results = classify(batch.map(\.input), padded: padded)
            condition.lock()
            lastPassItems = batch.count
            passes += 1
            lastPassEnd = Date()
            lastPassSeconds = lastPassEnd.timeIntervalSince(started)
            condition.unlock()
            for (pending, result) in zip(batch, results) {
                pending.result = result
                pending.done.signal()
            }
        }
    }

    /// How many of `queued` requests the next pass takes, and the batch size it runs at: all of
    /// them padded to the next power of two (or `maxBatch`) when that adds at most a quarter;
    /// otherwise the largest power of two that fits, the rest waiting for the next pass.
    static func passSize(queued: Int, maxBatch: Int) -> (take: Int, padded: Int) {
        if queued >= maxBatch { return (maxBatch, maxBatch) }
        var up = 1
        while up < queued { up *= 2 }
        up = min(up, maxBatch)
        if queued * 5 >= up * 4 { return (queued, up) }
        var down = 1
        while down * 2 <= queued { down *= 2 }
        return (down, down)
    }

    /// The items' predictions in one pass of `padded` rows (the items, then zeros).
    private func classify(_ inputs: [Tensor], padded: Int) -> [ImagePrediction] {
        var rows = inputs
        if padded > rows.count, let first = rows.first { rows += Array(repeating: Tensor.zeros(like: first), count: padded - rows.count) }
        return Array(learner.predictions(for: Tensor.cat(rows)).prefix(inputs.count))
    }
}
