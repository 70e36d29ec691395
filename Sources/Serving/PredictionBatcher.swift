import Foundation
import Tensors
import Training
import Vision

/// Runs a classifier for many callers at once: requests that arrive within `window` of each other
/// share one forward pass of up to `maxBatch` items (padded to a power of two, so the model's
/// inference plans are made for a few batch sizes only). With batching off, one item at a time.
/// One thread runs the model; callers wait for their own answer.
public final class PredictionBatcher: @unchecked Sendable {
    private let learner: InferenceLearner
    private let window: Double
    private let maxBatch: Int
    private let batching: Bool
    private let condition = NSCondition()
    private var queue: [Pending] = []
    private var stopped = false

    private final class Pending: @unchecked Sendable {
        let input: Tensor
        var result: ImagePrediction?
        let done = DispatchSemaphore(value: 0)
        init(_ input: Tensor) { self.input = input }
    }

    /// A batcher for a loaded classifier.
    ///
    /// - Parameters:
    ///   - batching: share forward passes between requests (off: one request per pass).
    ///   - window: how long the first request of a batch waits for others, in seconds.
    ///   - maxBatch: the most items in one pass.
    public init(_ learner: InferenceLearner, batching: Bool = true, window: Double = 0.002, maxBatch: Int = 64) {
        self.learner = learner
        self.batching = batching
        self.window = window
        self.maxBatch = max(1, maxBatch)
        let thread = Thread { [self] in run() }
        thread.name = "fastswift-predict"
        thread.start()
    }

    /// The prediction for one prepared input `[1, C, H, W]` (blocks until its batch has run).
    public func predict(_ input: Tensor) -> ImagePrediction {
        let pending = Pending(input)
        condition.lock()
        queue.append(pending)
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
            if batching && queue.count < maxBatch {
                // Gather the requests that arrive within the window.
                let until = Date().addingTimeInterval(window)
                while queue.count < maxBatch && condition.wait(until: until) {}
            }
            let take = batching ? min(queue.count, maxBatch) : 1
            let batch = Array(queue.prefix(take))
            queue.removeFirst(take)
            condition.unlock()
            let results = classifyPadded(batch.map(\.input))
            for (pending, result) in zip(batch, results) {
                pending.result = result
                pending.done.signal()
            }
        }
    }

    /// The items' predictions in one pass, the batch padded with zeros to a power of two.
    private func classifyPadded(_ inputs: [Tensor]) -> [ImagePrediction] {
        var rows = inputs
        var size = 1
        while size < rows.count { size *= 2 }
        if size > rows.count, let first = rows.first { rows += Array(repeating: Tensor.zeros(like: first), count: size - rows.count) }
        return Array(learner.predictions(for: Tensor.cat(rows)).prefix(inputs.count))
    }
}
