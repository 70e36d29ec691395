import TestSupport
import Synchronization
import XCTest
@testable import Autograd
@testable import Layers
@testable import Tensors

final class ModuleTests: XCTestCase {
    func testSequentialFindsParametersAndPrintsLikePyTorch() {
        let net = Sequential(Linear(28 * 28, 30), ReLU(), Linear(30, 1))
        XCTAssertEqual(net.parameters.count, 4)
        XCTAssertEqual(net.parameterCount, 784 * 30 + 30 + 30 + 1)
        XCTAssertEqual(net.namedParameters.map(\.name), ["0.weight", "0.bias", "2.weight", "2.bias"])
        XCTAssertEqual(net.namedParameters.map(\.tensor.shape), [[30, 784], [30], [1, 30], [1]])
        XCTAssertEqual(
            net.description,
            """
            Sequential(
              (0): Linear(in_features=784, out_features=30, bias=True)
              (1): ReLU()
              (2): Linear(in_features=30, out_features=1, bias=True)
            )
            """)
        XCTAssertEqual(net(Tensor.zeros([5, 784])).shape, [5, 1])
    }

    final class Net: Module {
        let body = Sequential(Linear(4, 8), ReLU())
        let heads = [Linear(8, 2), Linear(8, 3)]
        let optionalHead: Linear? = Linear(8, 1)
        var scale: Tensor = {
            var s = Tensor.ones([1])
            s.requiresGrad = true
            return s
        }()
        let notAParameter = Tensor.ones([2])
        override func forward(_ x: Tensor) -> Tensor { heads[0](body(x)) * scale }
    }

    func testSubclassDiscoversNestedModulesArraysAndOptionals() {
        let net = Net()
        XCTAssertEqual(
            net.namedParameters.map(\.name),
            [
                "scale", "body.0.weight", "body.0.bias", "heads.0.weight", "heads.0.bias",
                "heads.1.weight", "heads.1.bias", "optionalHead.weight", "optionalHead.bias",
            ])
        XCTAssertEqual(net.namedBuffers.map(\.name), ["notAParameter"])
        XCTAssertTrue(net.description.hasPrefix("Net(\n  (body): Sequential(\n    (0): Linear(in_features=4, out_features=8, bias=True)"))
        net.eval()
        XCTAssertFalse(net.isTraining)
        XCTAssertFalse(net.body.layers[0].isTraining)
        XCTAssertFalse(net.heads[1].isTraining)
        net.train()
        XCTAssertTrue(net.heads[1].isTraining)
    }

    func testParametersAreTheModelsOwn() {
        let layer = Linear(3, 2)
        let before = layer.weight.scalars
        var params = layer.parameters
        noGrad { params[0] -= Tensor(1) }
        XCTAssertEqual(layer.weight.scalars, before.map { $0 - 1 }, "an update through parameters reaches the layer")
    }

    func testLinearMatchesItsDefinitionAndInit() {
        seed(1)
        let layer = Linear(50, 20)
        let bound = 1 / Float(50).squareRoot()
        XCTAssertTrue(layer.weight.scalars.allSatisfy { abs($0) <= bound })
        XCTAssertTrue(layer.bias!.scalars.allSatisfy { abs($0) <= bound })
        let x = Tensor.randn([7, 50])
        assertClose(layer(x), x • layer.weight.T + layer.bias!, rtol: 1e-5, atol: 1e-5)
        // Extra leading axes are kept.
        XCTAssertEqual(layer(Tensor.randn([2, 3, 50])).shape, [2, 3, 20])
        XCTAssertNil(Linear(3, 2, bias: false).bias)
    }

    func testLinearGradients() {
        let g = RandomGenerator(seed: 5)
        let inputs = [Tensor.randn([4, 3], generator: g), Tensor.randn([2, 3], generator: g), Tensor.randn([2], generator: g)]
        let result = checkGradients(of: { Tensor.linear($0[0], weight: $0[1], bias: $0[2]) }, at: inputs)
        XCTAssertTrue(result.passed, result.description)
        let batched = checkGradients(
            of: { Tensor.linear($0[0], weight: $0[1], bias: nil) },
            at: [Tensor.randn([2, 3, 3], generator: g), Tensor.randn([2, 3], generator: g)])
        XCTAssertTrue(batched.passed, batched.description)
    }

    func testActivationsAndFlatten() {
        let x = Tensor([[-1, 0.5], [2, -3]])
        XCTAssertEqual(ReLU()(x), x.relu())
        XCTAssertEqual(Sigmoid()(x), x.sigmoid())
        XCTAssertEqual(Tanh()(x), x.tanh())
        assertClose(Softmax()(x).sum(dim: 1), Tensor([1, 1]))
        assertClose(LogSoftmax()(x).exp(), Softmax()(x))
        XCTAssertEqual(Flatten()(Tensor.zeros([2, 1, 28, 28])).shape, [2, 784])
        XCTAssertEqual(Lambda { $0 * 2 }(x), x * 2)
        XCTAssertEqual(Softmax(dim: 0).description, "Softmax(dim=0)")
    }

    func testDropout() {
        seed(3)
        let d = Dropout(p: 0.25)
        let x = Tensor.ones([100_000])
        let y = d(x)
        let zeros = Float((y .== 0).sum().item()) / 100_000
        XCTAssertEqual(zeros, 0.25, accuracy: 0.01)
        XCTAssertTrue(y.scalars.allSatisfy { $0 == 0 || abs($0 - 1 / 0.75) < 1e-6 })
        d.eval()
        XCTAssertEqual(d(x), x)
        seed(9)
        let a = Dropout(p: 0.5)(x)
        seed(9)
        XCTAssertEqual(Dropout(p: 0.5)(x), a, "the seed makes the mask repeat")
    }

    func testBatchNorm1dByHand() {
        let bn = BatchNorm1d(2)
        let x = Tensor([[1, 10], [3, 20], [5, 60]])
        let y = bn(x)
        // Column means 3 and 30; biased variances 8/3 and 1400/3.
        let expected0 = [Float(-2), 0, 2].map { $0 / (Float(8.0 / 3.0) + 1e-5).squareRoot() }
        let expected1 = [Float(-20), -10, 30].map { $0 / (Float(1400.0 / 3.0) + 1e-5).squareRoot() }
        assertClose(y[..., 0].scalars, expected0, rtol: 1e-5)
        assertClose(y[..., 1].scalars, expected1, rtol: 1e-5)
        // Running statistics: momentum 0.1 toward the batch mean and the unbiased variance.
        assertClose(bn.runningMean, Tensor([0.3, 3]))
        assertClose(bn.runningVar, Tensor([0.9 + 0.1 * 4, 0.9 + 0.1 * 700]), rtol: 1e-5)
        bn.eval()
        let z = bn(x)
        assertClose(z[..., 0], (x[..., 0] - 0.3) / (Tensor(1.3) + 1e-5).sqrt(), rtol: 1e-5)
        XCTAssertEqual(bn.description, "BatchNorm1d(2, eps=1e-05, momentum=0.1, affine=True)")
    }

    func testBatchNorm1dGradients() {
        let g = RandomGenerator(seed: 8)
        let x = Tensor.randn([5, 3], generator: g)
        let result = checkGradients(
            of: { xs in
                let bn = BatchNorm1d(3)
                return bn(xs[0]) * Tensor([1, 2, 3])
            }, at: [x])
        XCTAssertTrue(result.passed, result.description)
    }

    func testInit() {
        seed(4)
        let k = Init.kaimingNormal([256, 400])
        XCTAssertTrue(k.requiresGrad)
        XCTAssertEqual(k.std().item(), (2 / Float(400)).squareRoot(), accuracy: 0.002)
        let kf = Init.kaimingNormal([64, 32, 3, 3], fanOut: true)
        XCTAssertEqual(kf.std().item(), (2 / Float(64 * 9)).squareRoot(), accuracy: 0.003)
        let x = Init.xavierUniform([30, 50])
        XCTAssertTrue(x.scalars.allSatisfy { abs($0) <= (6 / Float(80)).squareRoot() })
        XCTAssertEqual(Init.xavierNormal([300, 500]).std().item(), (2 / Float(800)).squareRoot(), accuracy: 0.002)
        let u = Init.kaimingUniform([100, 100])
        XCTAssertTrue(u.scalars.allSatisfy { abs($0) <= (6 / Float(100)).squareRoot() })
        let p = initParams([28 * 28, 1])
        XCTAssertTrue(p.requiresGrad)
        XCTAssertEqual(p.shape, [784, 1])
        XCTAssertEqual(initParams([10_000], std: 0.1).std().item(), 0.1, accuracy: 0.005)
    }
}

/// The first of issue 25's two heap corruptions was put down (commit b38a9af) to modules
/// reflecting a noncopyable `Mutex` stored in a `Conv2d`. Its real cause was a stale incremental
/// build (`BuildGraphTests` tells the story): the benchmarks' module kept `Conv2d`'s layout from
/// before the `Mutex`. Reflection was never at fault: the Swift 6.3 runtime reflects a noncopyable
/// field as an empty tuple without copying it. This keeps that checked (under `.ci/sanitize`'s
/// address sanitizer too): a module holding a filled `Mutex` of tensors beside its parameters is
/// reflected thousands of times, and its parameters, its state and the mutex's contents stay intact.
final class MutexInModuleTests: XCTestCase {
    final class CachingLinear: Module {
        let weight = Tensor.ones([4, 3]).requiringGrad()
        let cache = Mutex<(version: Int, taps: [Int], weight: Tensor)?>(nil)
        func fill(_ version: Int) { cache.withLock { $0 = (version, [0, 1, 2], Tensor.full([4, 3], Float(version))) } }
        override func forward(_ input: Tensor) -> Tensor { input }
    }

    func testReflectingAModuleThatHoldsAMutexLeavesEverythingIntact() {
        let model = Sequential(CachingLinear(), CachingLinear())
        let layers = model.allModules.compactMap { $0 as? CachingLinear }
        for round in 0..<5_000 {
            if round % 100 == 0 { for layer in layers { layer.fill(round) } }
            XCTAssertEqual(model.namedParameters.map(\.name), ["0.weight", "1.weight"])
            XCTAssertEqual(model.stateDict().count, 2)
        }
        for layer in layers {
            let cached = layer.cache.withLock { $0 }
            XCTAssertEqual(cached?.version, 4_900)
            XCTAssertEqual(cached?.taps, [0, 1, 2])
            XCTAssertEqual(cached?.weight.scalars, [Float](repeating: 4_900, count: 12))
            XCTAssertEqual(layer.weight.scalars, [Float](repeating: 1, count: 12))
        }
    }
}
