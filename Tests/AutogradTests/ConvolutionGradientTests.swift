import TestSupport
import XCTest
@testable import Autograd
@testable import Tensors

/// The gradients autograd gives through convolution, pooling and batch norm, against finite
/// differences, and the fused batch norm + ReLU against the two ops apart.
final class ConvolutionGradientTests: XCTestCase {
    func testBackwardAgainstNaive() {
        // The gradients of sum(conv(x) * r) are checked against autograd through the naive
        // convolution written with tensor ops (im2col-free), for each configuration.
        let g = RandomGenerator(seed: 4)
        for (stride, padding, k) in [(1, 1, 3), (2, 1, 3), (2, 3, 7), (1, 0, 1), (2, 0, 1)] {
            for batch in [1, 2] {
                let x = Tensor.randn([batch, 2, 9, 7], generator: g)
                let w = Tensor.randn([3, 2, k, k], generator: g), b = Tensor.randn([3], generator: g)
                let result = checkGradients(
                    of: { xs in
                        Tensor.conv2d(xs[0], weight: xs[1], bias: xs[2], stride: (stride, stride), padding: (padding, padding))
                    }, at: [x, w, b], eps: 1e-2, rtol: 2e-2, atol: 5e-3)
                XCTAssertTrue(result.passed, "stride \(stride) padding \(padding) kernel \(k) batch \(batch): \(result)")
            }
        }
    }

    func testPoolingGradients() {
        let g = RandomGenerator(seed: 6)
        let x = Tensor.randn([2, 2, 7, 6], generator: g)
        for (name, f) in [
            ("max", { (t: Tensor) in t.maxPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1)) }),
            ("avg", { (t: Tensor) in t.avgPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1)) }),
            ("adaptive avg", { (t: Tensor) in t.adaptiveAvgPool2d((3, 2)) }),
            ("adaptive max", { (t: Tensor) in t.adaptiveMaxPool2d((2, 4)) }),
        ] {
            let result = checkGradients(of: { f($0[0]) }, at: [x])
            XCTAssertTrue(result.passed, "\(name): \(result)")
        }
    }

    func testBatchNormGradientsInBothModes() {
        let g = RandomGenerator(seed: 7)
        let x = Tensor.randn([3, 2, 2, 3], generator: g)
        let weight = Tensor.randn([2], generator: g), bias = Tensor.randn([2], generator: g)
        let mean = Tensor([0.1, -0.2]), variance = Tensor([1.5, 0.7])
        for training in [true, false] {
            let result = checkGradients(
                of: { xs in
                    Tensor.batchNorm(
                        xs[0], weight: xs[1], bias: xs[2], runningMean: mean, runningVariance: variance,
                        training: training, eps: 1e-5
                    ).output * Tensor.arange(36).reshape([3, 2, 2, 3])
                }, at: [x, weight, bias])
            XCTAssertTrue(result.passed, "training \(training): \(result)")
        }
    }

    func testFusedBatchNormReLUEqualsBatchNormThenReLU() {
        // Large enough to be split over two threads; both modes; values and all three gradients.
        let g = RandomGenerator(seed: 12)
        let x = Tensor.randn([16, 16, 16, 17], generator: g)
        let weight = Tensor.randn([16], generator: g), bias = Tensor.randn([16], generator: g)
        let mean = Tensor.randn([16], generator: g), variance = Tensor.rand([16], generator: g) + 0.5
        let upstream = Tensor.randn(x.shape, generator: g)
        for training in [true, false] {
            func run(fused: Bool) -> [Tensor] {
                let (xs, ws, bs) = (x.clone().requiringGrad(), weight.clone().requiringGrad(), bias.clone().requiringGrad())
                let y = Tensor.batchNorm(
                    xs, weight: ws, bias: bs, runningMean: mean, runningVariance: variance,
                    training: training, eps: 1e-5, relu: fused
                ).output
                let out = fused ? y : y.relu()
                out.backward(upstream)
                return [out.detach(), xs.grad!, ws.grad!, bs.grad!]
            }
            let (fused, plain) = (run(fused: true), run(fused: false))
            for (a, b) in zip(fused, plain) { assertClose(a, b, rtol: 1e-5, atol: 1e-5, "training \(training)") }
            XCTAssertEqual(fused[0], plain[0], "the forward values are the same to the bit")
        }
        let check = checkGradients(
            of: { xs in
                Tensor.batchNorm(
                    xs[0], weight: xs[1], bias: xs[2], runningMean: mean[0..<2], runningVariance: variance[0..<2],
                    training: true, eps: 1e-5, relu: true
                ).output * Tensor.arange(36).reshape([3, 2, 2, 3])
            }, at: [x[.range(0..<3), .range(0..<2), .range(0..<2), .range(0..<3)], weight[0..<2], bias[0..<2]])
        XCTAssertTrue(check.passed, "\(check)")
    }
}
