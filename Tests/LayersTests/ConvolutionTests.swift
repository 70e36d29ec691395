import TestSupport
import XCTest
@testable import Autograd
@testable import Layers
import Optimizers
@testable import Tensors

final class ConvolutionTests: XCTestCase {
    /// The textbook convolution: four nested loops per output element, in Double.
    func naiveConv(_ x: Tensor, _ w: Tensor, _ b: Tensor?, stride: Int, padding: Int) -> Tensor {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (co, k) = (w.shape[0], w.shape[2])
        let oh = (h + 2 * padding - k) / stride + 1, ow = (wd + 2 * padding - k) / stride + 1
        let xs = x.scalars, ws = w.scalars
        var out = [Float](repeating: 0, count: n * co * oh * ow)
        for s in 0..<n { for o in 0..<co { for i in 0..<oh { for j in 0..<ow {
            var acc = Double(b?.scalars[o] ?? 0)
            for ci in 0..<c { for u in 0..<k { for v in 0..<k {
                let ih = i * stride - padding + u, iw = j * stride - padding + v
                guard ih >= 0, ih < h, iw >= 0, iw < wd else { continue }
                acc += Double(xs[((s * c + ci) * h + ih) * wd + iw]) * Double(ws[((o * c + ci) * k + u) * k + v])
            } } }
            out[((s * co + o) * oh + i) * ow + j] = Float(acc)
        } } } }
        return Tensor(shape: [n, co, oh, ow], scalars: out)
    }

    func testForwardAgainstNaive() {
        let g = RandomGenerator(seed: 3)
        for (stride, padding, k) in [(1, 0, 1), (1, 1, 3), (2, 1, 3), (2, 3, 7), (1, 0, 3), (2, 0, 1), (1, 3, 7)] {
            for batch in [1, 3] {
                let x = Tensor.randn([batch, 3, 11, 9], generator: g)   // non-square
                let w = Tensor.randn([5, 3, k, k], generator: g), b = Tensor.randn([5], generator: g)
                let fast = Tensor.conv2d(x, weight: w, bias: b, stride: (stride, stride), padding: (padding, padding))
                assertClose(fast, naiveConv(x, w, b, stride: stride, padding: padding), rtol: 1e-4, atol: 1e-4,
                            "stride \(stride) padding \(padding) kernel \(k) batch \(batch)")
            }
        }
    }

    func testBackwardAgainstNaive() {
        // The gradients of sum(conv(x) * r) are checked against autograd through the naive
        // convolution written with tensor ops (im2col-free), for each configuration.
        let g = RandomGenerator(seed: 4)
        for (stride, padding, k) in [(1, 1, 3), (2, 1, 3), (2, 3, 7), (1, 0, 1), (2, 0, 1)] {
            for batch in [1, 2] {
                let x = Tensor.randn([batch, 2, 9, 7], generator: g)
                let w = Tensor.randn([3, 2, k, k], generator: g), b = Tensor.randn([3], generator: g)
                let result = checkGradients(of: { xs in
                    Tensor.conv2d(xs[0], weight: xs[1], bias: xs[2], stride: (stride, stride), padding: (padding, padding))
                }, at: [x, w, b], eps: 1e-2, rtol: 2e-2, atol: 5e-3)
                XCTAssertTrue(result.passed, "stride \(stride) padding \(padding) kernel \(k) batch \(batch): \(result)")
            }
        }
    }

    /// dX and dW of a convolution by direct loops: each output gradient sent back along the
    /// same index arithmetic as the forward pass.
    func naiveConvBackward(_ x: Tensor, _ w: Tensor, _ dy: Tensor, stride: Int, padding: Int) -> (Tensor, Tensor) {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (co, k, oh, ow) = (w.shape[0], w.shape[2], dy.shape[2], dy.shape[3])
        let xs = x.scalars, ws = w.scalars, gs = dy.scalars
        var dx = [Double](repeating: 0, count: x.count), dw = [Double](repeating: 0, count: w.count)
        for s in 0..<n { for o in 0..<co { for i in 0..<oh { for j in 0..<ow {
            let gv = Double(gs[((s * co + o) * oh + i) * ow + j])
            for ci in 0..<c { for u in 0..<k { for v in 0..<k {
                let ih = i * stride - padding + u, iw = j * stride - padding + v
                guard ih >= 0, ih < h, iw >= 0, iw < wd else { continue }
                let xi = ((s * c + ci) * h + ih) * wd + iw, wi = ((o * c + ci) * k + u) * k + v
                dx[xi] += gv * Double(ws[wi])
                dw[wi] += gv * Double(xs[xi])
            } } }
        } } } }
        return (Tensor(shape: x.shape, scalars: dx.map(Float.init)), Tensor(shape: w.shape, scalars: dw.map(Float.init)))
    }

    func testBackwardAgainstNaiveLoops() {
        let g = RandomGenerator(seed: 8)
        // (1, 1, 3) and (1, 2, 5) keep the input's size: im2col and col2im as shifted copies.
        for (stride, padding, k) in [(1, 0, 1), (1, 1, 3), (1, 2, 5), (2, 1, 3), (2, 3, 7), (2, 0, 1)] {
            for batch in [1, 3] {
                let x = Tensor.randn([batch, 3, 10, 7], generator: g), w = Tensor.randn([4, 3, k, k], generator: g)
                let geometry = Tensor.convolutionGeometry(x, w, stride: (stride, stride), padding: (padding, padding))
                let dy = Tensor.randn([batch, 4, geometry.outH, geometry.outW], generator: g)
                let (dx, dw, db) = Tensor.conv2dBackward(dy, input: x, weight: w, stride: (stride, stride), padding: (padding, padding),
                                                         needInput: true, needWeight: true, needBias: true)
                let (ndx, ndw) = naiveConvBackward(x, w, dy, stride: stride, padding: padding)
                let label = "stride \(stride) padding \(padding) kernel \(k) batch \(batch)"
                assertClose(dx!, ndx, rtol: 1e-4, atol: 1e-4, label)
                assertClose(dw!, ndw, rtol: 1e-4, atol: 1e-4, label)
                assertClose(db!, dy.sum(dims: [0, 2, 3]), rtol: 1e-5, atol: 1e-5, label)
            }
        }
    }

    func testTapsThatOnlySeePaddingAreSkippedExactly() {
        // A padded 3x3 kernel over a 1x1 input uses only its centre; stride 2 over 2x2 uses 4 taps.
        let g = RandomGenerator(seed: 9)
        for (size, stride) in [(1, 1), (2, 2), (3, 2), (2, 1)] {
            let x = Tensor.randn([3, 4, size, size], generator: g), w = Tensor.randn([5, 4, 3, 3], generator: g)
            let geometry = Tensor.convolutionGeometry(x, w, stride: (stride, stride), padding: (1, 1))
            if size == 1 { XCTAssertEqual(geometry.taps, [4]) }
            if size == 2 && stride == 2 { XCTAssertEqual(geometry.taps, [4, 5, 7, 8]) }
            let y = Tensor.conv2d(x, weight: w, stride: (stride, stride), padding: (1, 1))
            assertClose(y, naiveConv(x, w, nil, stride: stride, padding: 1), rtol: 1e-4, atol: 1e-4, "size \(size) stride \(stride)")
            let dy = Tensor.randn(y.shape, generator: g)
            let (dx, dw, _) = Tensor.conv2dBackward(dy, input: x, weight: w, stride: (stride, stride), padding: (1, 1),
                                                    needInput: true, needWeight: true, needBias: false)
            let (ndx, ndw) = naiveConvBackward(x, w, dy, stride: stride, padding: 1)
            assertClose(dx!, ndx, rtol: 1e-4, atol: 1e-4, "dx, size \(size) stride \(stride)")
            assertClose(dw!, ndw, rtol: 1e-4, atol: 1e-4, "dw, size \(size) stride \(stride)")
        }
        // Shifted copies with pruned taps: dX from the forward pass's gathered weight equals dX
        // from the full one (a 5x5 kernel over 2x2 uses its middle 3x3 taps; over 3x1, 3x1 of them).
        for (h, w, k, padding) in [(1, 1, 3, 1), (2, 2, 5, 2), (3, 1, 5, 2)] {
            let x = Tensor.randn([2, 6, h, w], generator: g), weight = Tensor.randn([7, 6, k, k], generator: g)
            let geometry = Tensor.convolutionGeometry(x, weight, stride: (1, 1), padding: (padding, padding))
            XCTAssertTrue(geometry.isShiftedCopy && geometry.prunesTaps)
            let dy = Tensor.randn([2, 7, h, w], generator: g)
            let (ndx, _) = naiveConvBackward(x, weight, dy, stride: 1, padding: padding)
            for saved in [nil, Tensor.gemmWeight(weight, geometry)] {
                let (dx, _, _) = Tensor.conv2dBackward(dy, input: x, weight: weight, stride: (1, 1), padding: (padding, padding),
                                                       gemmWeight: saved, needInput: true, needWeight: false, needBias: false)
                assertClose(dx!, ndx, rtol: 1e-4, atol: 1e-4, "\(h)x\(w) kernel \(k), gathered weight \(saved != nil)")
            }
        }
    }

    func testLargeBatchIsTiledTheSame() {
        // Enough work that the im2col columns are split into tiles of samples.
        let g = RandomGenerator(seed: 5)
        let x = Tensor.randn([12, 64, 56, 56], generator: g), w = Tensor.randn([4, 64, 3, 3], generator: g) * 0.1
        let y = Tensor.conv2d(x, weight: w, stride: (1, 1), padding: (1, 1))
        XCTAssertLessThan(Tensor.convolutionTile(Tensor.convolutionGeometry(x, w, stride: (1, 1), padding: (1, 1)), batch: 12), 12)
        for s in [0, 9, 11] {
            assertClose(y[s].unsqueeze(0), naiveConv(x[s].unsqueeze(0), w, nil, stride: 1, padding: 1), rtol: 1e-4, atol: 1e-4)
        }
    }

    func testLargeBatchBackwardIsTiledTheSame() {
        // ResNet's first stage at batch 48: the columns are split into tiles of samples, and
        // im2col/col2im are shifted copies of the channel rows.
        let g = RandomGenerator(seed: 6)
        let x = Tensor.randn([48, 64, 7, 7], generator: g), w = Tensor.randn([8, 64, 3, 3], generator: g) * 0.1
        let geometry = Tensor.convolutionGeometry(x, w, stride: (1, 1), padding: (1, 1))
        XCTAssertTrue(geometry.isShiftedCopy)
        XCTAssertLessThan(Tensor.convolutionTile(geometry, batch: 48), 48)
        let dy = Tensor.randn([48, 8, 7, 7], generator: g)
        let (dx, dw, _) = Tensor.conv2dBackward(dy, input: x, weight: w, stride: (1, 1), padding: (1, 1),
                                                needInput: true, needWeight: true, needBias: false)
        let (ndx, ndw) = naiveConvBackward(x, w, dy, stride: 1, padding: 1)
        assertClose(dx!, ndx, rtol: 1e-4, atol: 1e-4)
        assertClose(dw!, ndw, rtol: 1e-4, atol: 1e-3)
    }

    func testMaxPoolingWithoutGradientsEqualsTheWindowedSearch() {
        // Without gradients max pooling runs separably (rows, then columns); with them it keeps
        // each winner's position. Same values, NaN included, over widths past one vector.
        let g = RandomGenerator(seed: 13)
        for (h, w, k, s, p) in [(14, 14, 3, 2, 1), (9, 37, 3, 2, 1), (8, 20, 2, 2, 0), (5, 19, 3, 1, 1), (7, 33, 5, 3, 2)] {
            var x = Tensor.randn([2, 3, h, w], generator: g)
            x.withUnsafeMutableBufferPointer { $0[17] = .nan; $0[w * h + 40] = -.infinity }
            let plain = x.maxPool2d(kernel: (k, k), stride: (s, s), padding: (p, p))
            var tracked = x
            tracked.requiresGrad = true
            let searched = tracked.maxPool2d(kernel: (k, k), stride: (s, s), padding: (p, p)).detach()
            XCTAssertEqual(plain.shape, searched.shape)
            for (a, b) in zip(plain.scalars, searched.scalars) {
                XCTAssertTrue(a == b || (a.isNaN && b.isNaN), "\(h)x\(w) kernel \(k) stride \(s): \(a) vs \(b)")
            }
            XCTAssertTrue(plain.scalars.contains { $0.isNaN }, "the NaN reaches the output")
        }
    }

    func testShiftedCopiesCrossEveryGEMMBlock() {
        // Same-size convolutions run as GEMMs that pack their columns from the channel rows, and
        // dX as the convolution of dY with the rotated weight: depths past one 256-deep block
        // (30·9 forward, 40·9 for dX), outputs past 12-row panels, pixels past one 512-column
        // block with a partial 32-column panel, a non-square image.
        let g = RandomGenerator(seed: 12)
        for (k, padding) in [(3, 1), (5, 2)] {
            let x = Tensor.randn([9, 30, 9, 7], generator: g), w = Tensor.randn([40, 30, k, k], generator: g) * 0.1
            let geometry = Tensor.convolutionGeometry(x, w, stride: (1, 1), padding: (padding, padding))
            XCTAssertTrue(geometry.isShiftedCopy)
            let y = Tensor.conv2d(x, weight: w, stride: (1, 1), padding: (padding, padding))
            assertClose(y, naiveConv(x, w, nil, stride: 1, padding: padding), rtol: 1e-4, atol: 1e-4, "kernel \(k)")
            let dy = Tensor.randn(y.shape, generator: g)
            let (dx, dw, _) = Tensor.conv2dBackward(dy, input: x, weight: w, stride: (1, 1), padding: (padding, padding),
                                                    needInput: true, needWeight: true, needBias: false)
            let (ndx, ndw) = naiveConvBackward(x, w, dy, stride: 1, padding: padding)
            assertClose(dx!, ndx, rtol: 1e-4, atol: 1e-4, "dx, kernel \(k)")
            assertClose(dw!, ndw, rtol: 1e-4, atol: 1e-3, "dw, kernel \(k)")
            // Only the input's gradient asked for: no columns are built at all.
            let (dxOnly, _, _) = Tensor.conv2dBackward(dy, input: x, weight: w, stride: (1, 1), padding: (padding, padding),
                                                       needInput: true, needWeight: false, needBias: false)
            XCTAssertEqual(dxOnly!, dx!, "kernel \(k)")
        }
    }

    func testPoolingByHand() {
        let x = Tensor(shape: [1, 1, 4, 4], scalars: (0..<16).map(Float.init))
        XCTAssertEqual(x.maxPool2d(kernel: (2, 2)), Tensor(shape: [1, 1, 2, 2], scalars: [5, 7, 13, 15]))
        XCTAssertEqual(x.avgPool2d(kernel: (2, 2)), Tensor(shape: [1, 1, 2, 2], scalars: [2.5, 4.5, 10.5, 12.5]))
        // 3x3 stride 2 padding 1, as ResNet's stem.
        XCTAssertEqual(x.maxPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1)).scalars, [5, 7, 13, 15])
        // Padding counts in the average's divisor (count_include_pad): the corner sees 4 of 9.
        assertClose(x.avgPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1))[0, 0, 0, 0].item(), (0 + 1 + 4 + 5) / 9)
        XCTAssertEqual(x.adaptiveAvgPool2d((1, 1)).scalars, [7.5])
        XCTAssertEqual(x.adaptiveMaxPool2d((1, 1)).scalars, [15])
        // Adaptive windows of a 5-wide input into 3: [0, 2), [1, 4), [3, 5).
        let row = Tensor(shape: [1, 1, 1, 5], scalars: [1, 2, 3, 4, 5])
        XCTAssertEqual(row.adaptiveAvgPool2d((1, 3)).scalars, [1.5, 3, 4.5])
        XCTAssertEqual(row.adaptiveMaxPool2d((1, 3)).scalars, [2, 4, 5])
        XCTAssertEqual(AdaptiveConcatPool2d()(x).scalars, [15, 7.5])
    }

    func testPoolingGradients() {
        let g = RandomGenerator(seed: 6)
        let x = Tensor.randn([2, 2, 7, 6], generator: g)
        for (name, f) in [("max", { (t: Tensor) in t.maxPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1)) }),
                          ("avg", { (t: Tensor) in t.avgPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1)) }),
                          ("adaptive avg", { (t: Tensor) in t.adaptiveAvgPool2d((3, 2)) }),
                          ("adaptive max", { (t: Tensor) in t.adaptiveMaxPool2d((2, 4)) })] {
            let result = checkGradients(of: { f($0[0]) }, at: [x])
            XCTAssertTrue(result.passed, "\(name): \(result)")
        }
    }

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

    func testBatchNormGradientsInBothModes() {
        let g = RandomGenerator(seed: 7)
        let x = Tensor.randn([3, 2, 2, 3], generator: g)
        let weight = Tensor.randn([2], generator: g), bias = Tensor.randn([2], generator: g)
        let mean = Tensor([0.1, -0.2]), variance = Tensor([1.5, 0.7])
        for training in [true, false] {
            let result = checkGradients(of: { xs in
                Tensor.batchNorm(xs[0], weight: xs[1], bias: xs[2], runningMean: mean, runningVariance: variance,
                                 training: training, eps: 1e-5).output * Tensor.arange(36).reshape([3, 2, 2, 3])
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
                let y = Tensor.batchNorm(xs, weight: ws, bias: bs, runningMean: mean, runningVariance: variance,
                                         training: training, eps: 1e-5, relu: fused).output
                let out = fused ? y : y.relu()
                out.backward(upstream)
                return [out.detach(), xs.grad!, ws.grad!, bs.grad!]
            }
            let (fused, plain) = (run(fused: true), run(fused: false))
            for (a, b) in zip(fused, plain) { assertClose(a, b, rtol: 1e-5, atol: 1e-5, "training \(training)") }
            XCTAssertEqual(fused[0], plain[0], "the forward values are the same to the bit")
        }
        let check = checkGradients(of: { xs in
            Tensor.batchNorm(xs[0], weight: xs[1], bias: xs[2], runningMean: mean[0..<2], runningVariance: variance[0..<2],
                             training: true, eps: 1e-5, relu: true).output * Tensor.arange(36).reshape([3, 2, 2, 3])
        }, at: [x[.range(0..<3), .range(0..<2), .range(0..<2), .range(0..<3)], weight[0..<2], bias[0..<2]])
        XCTAssertTrue(check.passed, "\(check)")
    }

    func testBatchStatisticsStayAccurateFarFromZero() {
        // One pass with a shift: a channel at 1000 ± 0.01 keeps its variance (no cancellation).
        let g = RandomGenerator(seed: 13)
        let x = Tensor.randn([8, 3, 9, 11], generator: g) * 0.01 + 1000
        let mean = Tensor(uninitializedShape: [3]), variance = Tensor(uninitializedShape: [3])
        Kernels.channelStatistics(x.pointer, outer: 8, channels: 3, inner: 99, mean: mean.pointer, variance: variance.pointer)
        let values = x.scalars
        for c in 0..<3 {
            var items: [Double] = []
            for o in 0..<8 { for i in 0..<99 { items.append(Double(values[(o * 3 + c) * 99 + i])) } }
            let m = items.reduce(0, +) / Double(items.count)
            let v = items.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(items.count)
            XCTAssertEqual(Double(mean.scalars[c]), m, accuracy: 1e-4)
            XCTAssertEqual(Double(variance.scalars[c]), v, accuracy: v * 1e-3)
        }
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
            for _ in 0..<3 { _ = noGrad { model(Tensor.randn([8, channels, 20, 20]) * 3 + 1) } }   // training mode: statistics move
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
        noGrad { conv.weight -= 0.5 }                                   // an in-place op
        check("after -=")
        conv(x).sum().backward()
        SGD(conv.parameters, lr: 0.1).step()                           // an optimizer step
        check("after an optimizer step")
        try conv.loadStateDict(["weight": Tensor.randn([5, 6, 3, 3])])   // a checkpoint
        check("after loadStateDict")
        conv.weight = Tensor.randn([5, 6, 3, 3])                       // a new tensor
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
        XCTAssertEqual(head.layers.map { String(describing: type(of: $0)) },
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
