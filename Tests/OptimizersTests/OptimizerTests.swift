import Foundation
import TestSupport
import XCTest
@testable import Autograd
@testable import Layers
@testable import Optimizers
@testable import Tensors

final class OptimizerTests: XCTestCase {
    private func parameter(_ values: [Float]) -> Tensor {
        var p = Tensor(values)
        p.requiresGrad = true
        return p
    }

    func testPlainSGDStep() {
        let p = parameter([1, 2])
        p.grad = Tensor([0.5, -1])
        let opt = SGD([p], lr: 0.1)
        opt.step()
        assertClose(p, Tensor([0.95, 2.1]))
        opt.zeroGrad()
        XCTAssertNil(p.grad)
        opt.step()  // no gradient: nothing moves
        assertClose(p, Tensor([0.95, 2.1]))
    }

    func testSGDMomentumNesterovAndWeightDecayByHand() {
        // PyTorch: buf = g on the first step, then buf = m·buf + g; p -= lr·buf.
        let p = parameter([1])
        let opt = SGD([p], lr: 0.1, momentum: 0.9)
        p.grad = Tensor([1]); opt.step()  // buf 1, p 0.9
        p.grad = Tensor([1]); opt.step()  // buf 1.9, p 0.71
        assertClose(p.item(), 0.71)
        let q = parameter([1])
        let nesterov = SGD([q], lr: 0.1, momentum: 0.9, nesterov: true)
        q.grad = Tensor([1]); nesterov.step()  // buf 1, step 1 + 0.9 = 1.9, q 0.81
        assertClose(q.item(), 0.81)
        let w = parameter([2])
        let decayed = SGD([w], lr: 0.1, weightDecay: 0.5)
        w.grad = Tensor([1]); decayed.step()  // g = 1 + 0.5·2 = 2, w 1.8
        assertClose(w.item(), 1.8)
    }

    /// Adam's step by its formula in Double (fastai's defaults: β 0.9/0.99, eps 1e-5, decoupled
    /// weight decay 0.01, lr 0.01), from `initial` through each gradient of `grads` in turn, beside
    /// FastSwift's `Adam` over the same values.
    private func assertAdamFollowsItsFormula(_ initial: [Double], _ grads: [[Double]]) -> Adam {
        let p = parameter(initial.map(Float.init))
        let opt = Adam([p], lr: 0.01)
        var value = initial, m = [Double](repeating: 0, count: initial.count), v = m
        for (t, g) in grads.enumerated() {
            p.grad = Tensor(g.map(Float.init))
            opt.step()
            for i in value.indices {
                value[i] *= 1 - 0.01 * 0.01
                m[i] = 0.9 * m[i] + 0.1 * g[i]
                v[i] = 0.99 * v[i] + 0.01 * g[i] * g[i]
                let mHat = m[i] / (1 - pow(0.9, Double(t + 1))), vHat = v[i] / (1 - pow(0.99, Double(t + 1)))
                value[i] -= 0.01 * mHat / (vHat.squareRoot() + 1e-5)
            }
        }
        assertClose(p.scalars, value.map(Float.init), rtol: 1e-5, atol: 1e-6)
        return opt
    }

    func testAdamAgainstItsFormula() {
        let opt = assertAdamFollowsItsFormula([1, -2, 0.5], [[0.1, -0.3, 2], [0.2, 0.1, -1], [-0.5, 0.4, 0.3]])
        XCTAssertEqual(opt.values(\.momentum), [0.9])
        opt.set(\.momentum, 0.85)  // a scheduler can set it
        XCTAssertEqual(opt.groups[0].hypers.momentum, 0.85)
    }

    /// The formula again over 149 values: the kernel's four-vector loop (two rounds), its
    /// one-vector loop and its partial tail all give it.
    func testAdamAgainstItsFormulaOverEveryLoopOfTheKernel() {
        let n = 2 * 64 + 16 + 5
        let initial: [Double] = (0..<n).map { Double($0 % 7) - 3 }
        let grads: [[Double]] = (0..<3).map { (t: Int) -> [Double] in
            (0..<n).map { (i: Int) -> Double in Double((i * 5 + t * 3) % 11) / 4 - 1.2 }
        }
        _ = assertAdamFollowsItsFormula(initial, grads)
    }

    func testCoupledAdamAddsDecayToTheGradient() {
        let p = parameter([1])
        let opt = Adam([p], lr: 0.1, weightDecay: 1, decoupledWeightDecay: false)
        p.grad = Tensor([0])
        opt.step()  // g = 0 + 1·1 = 1; m̂ = 1, v̂ = 1: p = 1 - 0.1·1/(1 + 1e-5)
        assertClose(p.item(), 1 - 0.1 / (1 + 1e-5))
    }

    func testPiecesCoverEverySegmentOnceOnAnyThreadCount() {
        let counts = [100_003, 0, 7, 300_001, 64, 131_072]
        for threads in [1, 2, 3] {
            let saved = Threads.count
            Threads.count = threads
            defer { Threads.count = saved }
            let seen = counts.map { [Int](repeating: 0, count: $0) }
            let lock = NSLock()
            var visits = seen
            Kernels.forEachPiece(of: counts) { segment, range in
                lock.lock(); defer { lock.unlock() }
                for i in range { visits[segment][i] += 1 }
            }
            for (segment, v) in visits.enumerated() {
                XCTAssertEqual(v.count, counts[segment])
                XCTAssertTrue(v.allSatisfy { $0 == 1 }, "segment \(segment) on \(threads) threads")
            }
        }
    }

    /// One parallel pass over all parameters gives exactly what one thread, parameter by
    /// parameter, gives: Adam and SGD with momentum, over parameters large enough to be split.
    func testOptimizerStepsAreTheSameOnOneAndTwoThreads() {
        func run(threads: Int, _ make: ([Tensor]) -> Optimizer) -> [[Float]] {
            let saved = Threads.count
            Threads.count = threads
            defer { Threads.count = saved }
            let generator = RandomGenerator(seed: 3)
            let params = [200_003, 5, 150_000].map { Tensor.randn([$0], generator: generator).requiringGrad() }
            let opt = make(params)
            for _ in 0..<3 {
                for p in params { p.grad = Tensor.randn(p.shape, generator: generator) }
                opt.step()
            }
            return params.map(\.scalars)
        }
        let makers: [([Tensor]) -> Optimizer] = [{ Adam($0, lr: 0.01) }, { SGD($0, lr: 0.1, momentum: 0.9, weightDecay: 0.01) }]
        for make in makers {
            let one = run(threads: 1, make), two = run(threads: 2, make)
            XCTAssertEqual(one, two)
            XCTAssertNotEqual(one[0], run(threads: 1) { _ in BasicOptim([Tensor](), lr: 0) }[0], "the step moved the parameters")
        }
    }

    /// The seeds' BasicOptim: the base class holds the parameters, the learning rate and
    /// `zeroGrad`; the step is the chapter's.
    final class BasicOptim: Optimizer {
        override func step() { noGrad { for var p in parameters { p -= p.grad! * lr } } }
    }

    func testUserOptimizerTrainsALinearModel() {
        seed(5)
        let model = Linear(2, 1)
        let x = Tensor.randn([64, 2])
        let y = x • Tensor([[3], [-2]]) + 0.5
        let opt = BasicOptim(model.parameters, lr: 0.1)
        for _ in 0..<300 {
            let loss = mse(model(x), y)
            loss.backward()
            opt.step()
            opt.zeroGrad()
        }
        assertClose(model.weight, Tensor([[3, -2]]), rtol: 1e-3, atol: 1e-3)
        assertClose(model.bias!, Tensor([0.5]), rtol: 1e-3, atol: 1e-3)
        XCTAssertEqual(opt.groups.count, 1)
        XCTAssertEqual(opt.groups[0].hypers.momentum, 0, "hyper-parameters a step does not read keep their values")
    }
}
