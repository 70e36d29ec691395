import DataBlocks
import Foundation
import Layers
import Optimizers
import Tensors
import Training
import XCTest

/// Concurrency as users meet it: two learners training at once, a prediction asked of a
/// learner from another thread while it fits, and one loader iterated from two threads. Under
/// `.ci/sanitize thread` these also show that nothing they share races.
final class ConcurrencyTests: XCTestCase {
    /// A two-class problem of 512 points in 16 dimensions and an MLP wide enough for its GEMMs
    /// to be split over the worker pool; every random choice comes from `seed`.
    private func makeLearner(seed value: UInt64, cbs: [Callback] = []) throws -> Learner {
        let generator = RandomGenerator(seed: value)
        seed(value)
        let x = Tensor.randn([512, 16]), y = Tensor((0..<512).map { Float($0 % 2) })
        let inputs = x + y.unsqueeze(1) * 0.8
        let train = try DataLoader(
            TensorDataset(inputs[0..<384], y[0..<384]), batchSize: 32, shuffle: true, dropLast: true,
            generator: RandomGenerator(seed: generator.next()))
        let valid = try DataLoader(TensorDataset(inputs[384..<512], y[384..<512]), batchSize: 64)
        let model = Sequential(Linear(16, 256), ReLU(), Linear(256, 256), ReLU(), Linear(256, 2))
        let learn = Learner(
            dls: DataLoaders(train, valid, vocab: ["a", "b"]), model: model, loss: crossEntropy, opt: .adam, metrics: [accuracy], cbs: cbs)
        learn.progress.show = false
        return learn
    }

    private func weights(_ learn: Learner) -> [String: [Float]] { learn.model.stateDict().mapValues(\.scalars) }

    /// Runs each body on a thread of its own, all at once; rethrows the first error.
    private func concurrently(_ bodies: [@Sendable () throws -> Void]) throws {
        let errors = LockedErrors()
        DispatchQueue.concurrentPerform(iterations: bodies.count) { i in
            do { try bodies[i]() } catch { errors.append(error) }
        }
        if let first = errors.first { throw first }
    }

    func testTwoLearnersTrainingAtOnceEndAsEachWouldAlone() throws {
        let alone = try [1, 2].map { (s: UInt64) -> [String: [Float]] in
            let learn = try makeLearner(seed: s)
            try learn.fit(epochs: 3, lr: 1e-3)
            return weights(learn)
        }
        let first = try makeLearner(seed: 1), second = try makeLearner(seed: 2)
        let (a, b) = (UncheckedLearner(first), UncheckedLearner(second))
        try concurrently([{ try a.learn.fit(epochs: 3, lr: 1e-3) }, { try b.learn.fit(epochs: 3, lr: 1e-3) }])
        XCTAssertEqual(weights(first), alone[0], "the first learner, trained beside another, differs from its run alone")
        XCTAssertEqual(weights(second), alone[1], "the second learner, trained beside another, differs from its run alone")
        XCTAssertGreaterThan(first.recorder.values.last?[2] ?? 0, 0.75)
    }

    func testPredictFromAnotherThreadWaitsForTheFitAndDoesNotDisturbIt() throws {
        let alone = try makeLearner(seed: 3)
        try alone.fit(epochs: 2, lr: 1e-3)
        let progress = FitProgress()
        let learn = try makeLearner(seed: 3, cbs: [progress])
        let item = Tensor.ones([16])
        let fitting = UncheckedLearner(learn)
        let done = DispatchSemaphore(value: 0)
        Thread {
            do { try fitting.learn.fit(epochs: 2, lr: 1e-3) } catch { XCTFail("fit threw \(error)") }
            done.signal()
        }.start()
        progress.started.wait()  // the fit is under way on the other thread
        let prediction = learn.predict(item)
        XCTAssertTrue(progress.ended, "predict ran while the fit was still going")
        done.wait()
        XCTAssertEqual(weights(learn), weights(alone), "a predict from another thread changed the fit's result")
        XCTAssertEqual(prediction.probabilities.scalars, alone.predict(item).probabilities.scalars)
        XCTAssertTrue(learn.model.isTraining, "predict left the model in eval mode")
    }

    func testOneLoaderIteratedFromTwoThreadsGivesWholePassesInTheSeededOrders() throws {
        let reference = try DataLoader(0..<1000, batchSize: 10, shuffle: true, generator: RandomGenerator(seed: 7))
        let expected = (0..<40).map { _ in Array(reference.joined()) }
        let loader = try DataLoader(0..<1000, batchSize: 10, shuffle: true, generator: RandomGenerator(seed: 7))
        let passes = LockedPasses()
        let shared = UncheckedLoader(loader)
        try concurrently(
            (0..<2).map { _ in
                { @Sendable in for _ in 0..<20 { passes.append(Array(shared.loader.joined())) } }
            })
        XCTAssertEqual(passes.all.count, 40)
        for pass in passes.all { XCTAssertEqual(pass.sorted(), Array(0..<1000), "a pass is not a whole permutation of the items") }
        // Each pass is one of the seeded orders, each order used once: which thread got which
        // depends on the schedule, the set of orders does not.
        XCTAssertEqual(Set(passes.all), Set(expected))
    }
}

/// Marks the start and the end of a fit, for another thread to see.
private final class FitProgress: Callback, @unchecked Sendable {
    let started = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var hasEnded = false
    var ended: Bool { lock.withLock { hasEnded } }
    override func beforeFit(_ learn: Learner) throws { started.signal() }
    override func afterBatch(_ learn: Learner) throws { usleep(2_000) }  // a fit long enough to be caught in the middle
    override func afterFit(_ learn: Learner) throws { lock.withLock { hasEnded = true } }
}

private final class LockedErrors: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [Error] = []
    func append(_ error: Error) { lock.withLock { errors.append(error) } }
    var first: Error? { lock.withLock { errors.first } }
}

private final class LockedPasses: @unchecked Sendable {
    private let lock = NSLock()
    private var passes: [[Int]] = []
    func append(_ pass: [Int]) { lock.withLock { passes.append(pass) } }
    var all: [[Int]] { lock.withLock { passes } }
}

/// Hands a learner or a loader to another thread (the tests synchronise their use).
private struct UncheckedLearner: @unchecked Sendable {
    let learn: Learner
    init(_ learn: Learner) { self.learn = learn }
}

private struct UncheckedLoader: @unchecked Sendable {
    let loader: DataLoader<[Int]>
    init(_ loader: DataLoader<[Int]>) { self.loader = loader }
}
