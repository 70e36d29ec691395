import TestSupport
import XCTest
@testable import Autograd
@testable import Layers
import Optimizers
@testable import Tensors

/// Convolution, pooling and batch-norm layers, and ResNet built from them: layer state, fusions
/// in inference, and torchvision's outputs.
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

    func testInferenceFusesConvolutionBatchNormResidualAndReLUBitForBit() {
        // In eval mode under noGrad each convolution applies its batch norm, the residual and
        // the ReLU as it writes; with gradients on, the layers run apart. Trained running
        // statistics (not 0 and 1), so the affine maps are not the identity.
        // A ResNet in inference also keeps its maps channel-major from the stem to the pooling
        // (no layout copies); the values must not change by a bit, for basic and bottleneck
        // blocks, a single sample, and maps down to 1x1.
        seed(6)
        for model in [resnet18(inChannels: 1, classes: 10), ResNet(blocks: [1, 2, 1, 1], bottleneck: true, inChannels: 2, classes: 3)] {
            let channels = model.conv1.inChannels
            for _ in 0..<3 { _ = noGrad { model(Tensor.randn([8, channels, 20, 20]) * 3 + 1) } }  // training mode: statistics move
            model.eval()
            for x in [Tensor.randn([3, channels, 20, 20]), Tensor.randn([2, channels, 28, 28]), Tensor.randn([1, channels, 33, 17])] {
                let fused = noGrad { model(x) }
                let apart = model(x)
                XCTAssertEqual(fused, apart.detach(), "\(x.shape)")
            }
        }
        // A convolution with a bias folds it into the shift (close, not bit-identical).
        let conv = Conv2d(3, 5, kernelSize: 3, padding: 1), norm = BatchNorm2d(5)
        norm.runningMean = Tensor.randn([5]); norm.runningVar = Tensor.rand([5]) + 0.5
        norm.eval()
        let x = Tensor.randn([2, 3, 6, 6]), residual = Tensor.randn([2, 5, 6, 6])
        let fused = noGrad { conv.inference(x, norm, residual: residual, relu: true) }
        assertClose(fused, noGrad { (norm(conv(x)) + residual).relu() }, rtol: 1e-5, atol: 1e-5)
    }

    func testInferenceKeepsTheGatheredWeightOnlyWhileTheWeightIsUnchanged() throws {
        // A 3x3 convolution over 1x1 maps gathers 1 tap in 9; inference keeps that gathered
        // weight between calls, and must notice every way the weight can change.
        seed(8)
        let conv = Conv2d(6, 5, kernelSize: 3, padding: 1, bias: false), norm = BatchNorm2d(5)
        norm.eval()
        let x = Tensor.randn([4, 6, 1, 1])
        func check(_ label: String) {
            let fused = noGrad { conv.inference(x, norm, relu: false) }
            XCTAssertEqual(fused, noGrad { norm(conv(x)) }, label)
        }
        check("first call")
        check("cached")
        noGrad { conv.weight -= 0.5 }  // an in-place op
        check("after -=")
        conv(x).sum().backward()
        SGD(conv.parameters, lr: 0.1).step()  // an optimizer step
        check("after an optimizer step")
        try conv.loadStateDict(["weight": Tensor.randn([5, 6, 3, 3])])  // a checkpoint
        check("after loadStateDict")
        conv.weight = Tensor.randn([5, 6, 3, 3])  // a new tensor
        check("after assigning a new weight")
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
        let head = createHead(512, 10)
        XCTAssertEqual(
            head.layers.map { String(describing: type(of: $0)) },
            ["AdaptiveConcatPool2d", "Flatten", "BatchNorm1d", "Dropout", "Linear", "ReLU", "BatchNorm1d", "Dropout", "Linear"])
        XCTAssertEqual(head(Tensor.randn([4, 512, 1, 1])).shape, [4, 10])
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
