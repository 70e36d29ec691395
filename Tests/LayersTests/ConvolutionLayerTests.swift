import TestSupport
import XCTest
@testable import Autograd
@testable import Layers
import Optimizers
@testable import Tensors

/// Convolution, pooling and batch-norm layers, and ResNet built from them: layer state, inference
/// plans against the layers, and torchvision's outputs.
final class ConvolutionLayerTests: XCTestCase {
    func testBatchNorm2dByHandInBothModes() {
        let bn = BatchNorm2d(2)
        let x = Tensor(shape: [2, 2, 1, 2], scalars: [1, 3, 10, 20, 5, 7, 30, 40])
        let y = bn(x)
        // Channel 0 holds 1, 3, 5, 7: mean 4, biased variance 5.
        let expected0 = [Float(1), 3, 5, 7].map { ($0 - 4) / (5 + 1e-5).squareRoot() }
        assertClose([y[0, 0, 0, 0].item(), y[0, 0, 0, 1].item(), y[1, 0, 0, 0].item(), y[1, 0, 0, 1].item()], expected0, rtol: 1e-5)
        assertClose(bn.runningMean, Tensor([0.4, 2.5]))
        assertClose(bn.runningVar[0].item(), 0.9 + 0.1 * 20 / 3, rtol: 1e-5)
        bn.eval()
        let z = bn(x)
        assertClose(z[0, 0, 0, 0].item(), (1 - 0.4) / (bn.runningVar[0].item() + 1e-5).squareRoot(), rtol: 1e-5)
        XCTAssertEqual(bn.description, "BatchNorm2d(2, eps=1e-05, momentum=0.1, affine=True)")
    }

    func testAdaptiveConcatPoolingStacksMaxThenAverage() {
        let x = Tensor(shape: [1, 1, 4, 4], scalars: (0..<16).map(Float.init))
        XCTAssertEqual(AdaptiveConcatPool2d()(x).scalars, [15, 7.5])
    }

    func testSequentialFusesBatchNormAndReLUWithTheSameResult() {
        seed(4)
        let model = Sequential(Conv2d(2, 4, kernelSize: 3, padding: 1), BatchNorm2d(4), ReLU(), Flatten(), Linear(4 * 25, 3))
        let x = Tensor.randn([5, 2, 5, 5])
        let fused = model(x)
        let parts = model.layers[4](model.layers[3](model.layers[2](model.layers[1](model.layers[0](x)))))
        XCTAssertEqual(fused, parts)
    }

    /// Trained running statistics (not 0 and 1), so the batch norms' affine maps are not the identity.
    func trainStatistics(_ model: Module, _ shape: [Int]) {
        model.train()
        for _ in 0..<3 { _ = noGrad { model(Tensor.randn(shape) * 3 + 1) } }
        model.eval()
    }

    /// `model(x)` in eval mode under `noGrad` (through its inference plan) and layer by layer
    /// (with gradients on, so no plan), and whether a plan ran.
    func plannedAndApart(_ model: Module, _ x: Tensor) -> (planned: Tensor, apart: Tensor, usedPlan: Bool) {
        let planned = noGrad { model(x) }
        let usedPlan = model.inferencePlanCache.entry(for: x.shape)?.plan != nil
        return (planned, model(x).detach(), usedPlan)
    }

    func testInferencePlansGiveTheLayersValuesBitForBit() {
        // In eval mode under noGrad, a model of FastSwift's layers runs through its inference
        // plan: convolutions fused with their batch norm, residual and ReLU, maps channel-major
        // from the stem to the pooling. The values must not change by a bit: ResNet-18 and
        // ResNet-50 (basic and bottleneck blocks), a vision learner's body and head, a
        // hand-built Sequential; one sample, odd sizes, maps down to 1x1, maps large enough for
        // Winograd's method.
        seed(6)
        let resnet18 = Layers.resnet18(inChannels: 1, classes: 10), resnet50 = Layers.resnet50(inChannels: 2, classes: 3)
        let head = Sequential(
            AdaptiveConcatPool2d((1, 1)), Flatten(), BatchNorm1d(1024), Dropout(p: 0.25), Linear(1024, 512, bias: false), ReLU(),
            BatchNorm1d(512), Dropout(p: 0.5), Linear(512, 4, bias: false))
        let bodyAndHead = Sequential(Layers.resnet18(inChannels: 3).body, head)
        let handBuilt = Sequential(
            Conv2d(3, 8, kernelSize: 3, padding: 1, bias: false), BatchNorm2d(8), ReLU(),
            Conv2d(8, 8, kernelSize: 3, stride: 2, padding: 1), BatchNorm2d(8), ReLU(),  // a bias, then a batch norm: apart
            Conv2d(8, 6, kernelSize: 1), ReLU(),  // a bias alone
            MaxPool2d(kernelSize: 2), BatchNorm2d(6), Conv2d(6, 4, kernelSize: 3, padding: 1, bias: false),
            AvgPool2d(kernelSize: 2), Flatten(), Linear(4 * 4, 5), Sigmoid())
        let cases: [(String, Module, [[Int]])] = [
            // 64x64: the first stage's 16x16 maps take Winograd's method.
            ("resnet18", resnet18, [[3, 1, 20, 20], [2, 1, 28, 28], [1, 1, 33, 17], [2, 1, 64, 64]]),
            ("resnet50", resnet50, [[2, 2, 32, 32], [1, 2, 19, 23]]),
            ("body and head", bodyAndHead, [[2, 3, 40, 40]]),
            ("hand-built", handBuilt, [[3, 3, 16, 16]]),
        ]
        for (name, model, shapes) in cases {
            trainStatistics(model, [4] + Array(shapes[0].dropFirst()))
            for shape in shapes {
                let x = Tensor.randn(shape)
                let (planned, apart, usedPlan) = plannedAndApart(model, x)
                XCTAssertTrue(usedPlan, "\(name) \(shape): planned")
                XCTAssertEqual(planned, apart, "\(name) \(shape)")
                XCTAssertEqual(noGrad { model(x) }, apart, "\(name) \(shape): the kept plan")
            }
        }
    }

    func testAPlanIsRemadeWhenAnythingItWasTracedWithChanges() throws {
        // Every way the model can change between two inference calls: the plan must notice.
        seed(8)
        let conv = Conv2d(6, 5, kernelSize: 3, padding: 1, bias: false), norm = BatchNorm2d(5)
        let model = Sequential(conv, norm, ReLU())
        model.eval()
        let x = Tensor.randn([4, 6, 1, 1])  // a 3x3 kernel over 1x1 maps: 1 tap of 9 gathered
        func check(_ label: String) {
            let (planned, apart, usedPlan) = plannedAndApart(model, x)
            XCTAssertTrue(usedPlan, label)
            XCTAssertEqual(planned, apart, label)
        }
        check("first call")
        check("kept")
        noGrad { conv.weight -= 0.5 }  // an in-place op
        check("after -=")
        model.train()
        model(Tensor.randn([4, 6, 1, 1])).sum().backward()  // and the running statistics move
        SGD(model.parameters, lr: 0.1).step()  // an optimizer step
        model.eval()
        check("after training")
        try conv.loadStateDict(["weight": Tensor.randn([5, 6, 3, 3])])  // a checkpoint
        check("after loadStateDict")
        conv.weight = Tensor.randn([5, 6, 3, 3])  // a new tensor
        check("after assigning a new weight")
        try norm.loadStateDict(["weight": Tensor.rand([5]), "bias": Tensor.randn([5]), "running_mean": Tensor.randn([5]), "running_var": Tensor.rand([5])])
        check("after new batch-norm statistics")
    }

    /// A residual block written by a user: planned only when asked.
    final class UserBlock: Module {
        let conv = Conv2d(4, 4, kernelSize: 3, padding: 1, bias: false), norm = BatchNorm2d(4)
        override func forward(_ x: Tensor) -> Tensor { (norm(conv(x)) + x).relu() }
    }

    func testYourOwnModulesArePlannedWhenAskedAndUnsupportedOpsAreNamed() throws {
        seed(9)
        let block = UserBlock()
        trainStatistics(block, [4, 4, 6, 6])
        let x = Tensor.randn([2, 4, 6, 6])
        let (automatic, apart, usedPlan) = plannedAndApart(block, x)
        XCTAssertFalse(usedPlan, "a module FastSwift does not know runs its own forward")
        XCTAssertEqual(automatic, apart)
        let plan = try block.inferencePlan(for: x)
        XCTAssertEqual(plan.inputShape, [2, 4, 6, 6])
        XCTAssertEqual(plan(x), apart, "conv, batch norm, residual and ReLU in one step: the same bits")
        let other = Tensor.randn([2, 4, 6, 6])
        XCTAssertEqual(plan(other), block(other).detach())
        // `x * 2` records a scale the backward rule needs but not the shift: not replayable.
        let scaled = Sequential(Conv2d(1, 1, kernelSize: 1), Lambda { $0 * 2 })
        XCTAssertThrowsError(try scaled.inferencePlan(for: Tensor.randn([1, 1, 2, 2]))) { error in
            XCTAssertTrue("\(error)".contains("AffineBackward0"), "\(error)")
        }
        scaled.eval()
        XCTAssertEqual(noGrad { scaled(Tensor.ones([1, 1, 2, 2])) }.shape, [1, 1, 2, 2], "Lambda: not planned, runs as written")
    }

    func testResNet18MatchesTorchvision() {
        seed(1)
        XCTAssertEqual(resnet18().parameterCount, 11_689_512, "torchvision's resnet18 for 3 channels and 1000 classes")
        let model = resnet18(inChannels: 1, classes: 10)
        XCTAssertEqual(model.parameterCount, 11_689_512 - 2 * 64 * 49 - 990 * 513)
        model.eval()
        let out = noGrad { model(Tensor.randn([2, 1, 28, 28])) }
        XCTAssertEqual(out.shape, [2, 10])
        XCTAssertEqual(model.body(Tensor.randn([1, 1, 64, 64])).shape, [1, 512, 2, 2])
        XCTAssertTrue(model.description.contains("(downsample): Sequential(\n"), model.description)
        // Kaiming normal, fan out: a 3x3 conv of 64 outputs has std √(2 / 576).
        XCTAssertEqual(model.layer1.layers[0].namedParameters[0].tensor.std().item(), (2 / Float(576)).squareRoot(), accuracy: 0.003)
    }

    func testResNetBackwardReachesEveryParameter() {
        seed(2)
        let model = resnet18(inChannels: 1, classes: 10)
        let loss = crossEntropy(model(Tensor.randn([4, 1, 28, 28])), Tensor([1, 2, 3, 4]))
        loss.backward()
        XCTAssertTrue(model.parameters.allSatisfy { $0.grad != nil && $0.grad!.shape == $0.shape })
        XCTAssertTrue(loss.item().isFinite)
    }
}
