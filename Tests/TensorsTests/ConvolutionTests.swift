import TestSupport
import XCTest
@testable import Tensors

/// Convolution, pooling and batch-norm statistics as tensor ops and kernels, forward and the
/// backward kernels, against naive loops (`Reference`) and values worked out by hand.
final class ConvolutionTests: XCTestCase {
    func testForwardAgainstNaive() {
        let g = RandomGenerator(seed: 3)
        for (stride, padding, k) in [(1, 0, 1), (1, 1, 3), (2, 1, 3), (2, 3, 7), (1, 0, 3), (2, 0, 1), (1, 3, 7)] {
            for batch in [1, 3] {
                let x = Tensor.randn([batch, 3, 11, 9], generator: g)  // non-square
                let w = Tensor.randn([5, 3, k, k], generator: g), b = Tensor.randn([5], generator: g)
                let fast = Tensor.conv2d(x, weight: w, bias: b, stride: (stride, stride), padding: (padding, padding))
                assertClose(
                    fast, Reference.conv2d(x, w, b, stride: stride, padding: padding), rtol: 1e-4, atol: 1e-4,
                    "stride \(stride) padding \(padding) kernel \(k) batch \(batch)")
            }
        }
    }

    func testBackwardAgainstNaiveLoops() {
        let g = RandomGenerator(seed: 8)
        // (1, 1, 3) and (1, 2, 5) keep the input's size: im2col and col2im as shifted copies.
        for (stride, padding, k) in [(1, 0, 1), (1, 1, 3), (1, 2, 5), (2, 1, 3), (2, 3, 7), (2, 0, 1)] {
            for batch in [1, 3] {
                let x = Tensor.randn([batch, 3, 10, 7], generator: g), w = Tensor.randn([4, 3, k, k], generator: g)
                let geometry = Tensor.convolutionGeometry(x, w, stride: (stride, stride), padding: (padding, padding))
                let dy = Tensor.randn([batch, 4, geometry.outH, geometry.outW], generator: g)
                let (dx, dw, db) = Tensor.conv2dBackward(
                    dy, input: x, weight: w, stride: (stride, stride), padding: (padding, padding),
                    needInput: true, needWeight: true, needBias: true)
                let (ndx, ndw) = Reference.conv2dBackward(x, w, dy, stride: stride, padding: padding)
                let label = "stride \(stride) padding \(padding) kernel \(k) batch \(batch)"
                assertClose(dx!, ndx, rtol: 1e-4, atol: 1e-4, label)
                assertClose(dw!, ndw, rtol: 1e-4, atol: 1e-4, label)
                assertClose(db!, dy.sum(dims: [0, 2, 3]), rtol: 1e-5, atol: 1e-5, label)
            }
        }
    }

    func testStridedRowsAgainstNaive() {
        // Output rows of 8 or more are copied as strided runs (a ResNet stem: 7×7, stride 2,
        // padding 3), shorter ones through tables; both directions, odd and even sizes.
        let g = RandomGenerator(seed: 10)
        for (stride, padding, k, h, w) in [(2, 3, 7, 23, 20), (2, 1, 3, 17, 18), (3, 1, 3, 26, 25), (2, 0, 1, 16, 17)] {
            let x = Tensor.randn([2, 3, h, w], generator: g), weight = Tensor.randn([4, 3, k, k], generator: g)
            let geometry = Tensor.convolutionGeometry(x, weight, stride: (stride, stride), padding: (padding, padding))
            XCTAssertTrue(geometry.copiesRuns)
            let label = "stride \(stride) padding \(padding) kernel \(k) \(h)x\(w)"
            let y = Tensor.conv2d(x, weight: weight, stride: (stride, stride), padding: (padding, padding))
            assertClose(y, Reference.conv2d(x, weight, nil, stride: stride, padding: padding), rtol: 1e-4, atol: 1e-4, label)
            let dy = Tensor.randn(y.shape, generator: g)
            let (dx, dw, _) = Tensor.conv2dBackward(
                dy, input: x, weight: weight, stride: (stride, stride), padding: (padding, padding),
                needInput: true, needWeight: true, needBias: false)
            let (ndx, ndw) = Reference.conv2dBackward(x, weight, dy, stride: stride, padding: padding)
            assertClose(dx!, ndx, rtol: 1e-4, atol: 1e-4, "dx " + label)
            assertClose(dw!, ndw, rtol: 1e-4, atol: 1e-4, "dw " + label)
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
            assertClose(y, Reference.conv2d(x, w, nil, stride: stride, padding: 1), rtol: 1e-4, atol: 1e-4, "size \(size) stride \(stride)")
            let dy = Tensor.randn(y.shape, generator: g)
            let (dx, dw, _) = Tensor.conv2dBackward(
                dy, input: x, weight: w, stride: (stride, stride), padding: (1, 1),
                needInput: true, needWeight: true, needBias: false)
            let (ndx, ndw) = Reference.conv2dBackward(x, w, dy, stride: stride, padding: 1)
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
            let (ndx, _) = Reference.conv2dBackward(x, weight, dy, stride: 1, padding: padding)
            // The dense path these geometries take by default ignores a gathered weight.
            for saved in [nil, Tensor.gemmWeight(weight, geometry)] {
                for method in [ConvolutionMethod.im2col, .fastest] {
                    let (dx, _, _) = Tensor.convolutionBackward(
                        dy, input: x, weight: weight, stride: (1, 1), padding: (padding, padding),
                        gemmWeight: saved, needInput: true, needWeight: false, needBias: false, method: method)
                    assertClose(dx!, ndx, rtol: 1e-4, atol: 1e-4, "\(h)x\(w) kernel \(k), gathered weight \(saved != nil), \(method)")
                }
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
            assertClose(y[s].unsqueeze(0), Reference.conv2d(x[s].unsqueeze(0), w, nil, stride: 1, padding: 1), rtol: 1e-4, atol: 1e-4)
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
        let (dx, dw, _) = Tensor.conv2dBackward(
            dy, input: x, weight: w, stride: (1, 1), padding: (1, 1),
            needInput: true, needWeight: true, needBias: false)
        let (ndx, ndw) = Reference.conv2dBackward(x, w, dy, stride: 1, padding: 1)
        assertClose(dx!, ndx, rtol: 1e-4, atol: 1e-4)
        assertClose(dw!, ndw, rtol: 1e-4, atol: 1e-3)
    }

    func testMaxPoolingWithoutGradientsEqualsTheWindowedSearch() {
        // Without gradients max pooling runs separably (rows, then columns); with them it keeps
        // each winner's position. Same values, NaN included, over widths past one vector.
        let g = RandomGenerator(seed: 13)
        for (h, w, k, s, p) in [(14, 14, 3, 2, 1), (9, 37, 3, 2, 1), (8, 20, 2, 2, 0), (5, 19, 3, 1, 1), (7, 33, 5, 3, 2)] {
            var x = Tensor.randn([2, 3, h, w], generator: g)
            x.withUnsafeMutableBufferPointer {
                $0[17] = .nan; $0[w * h + 40] = -.infinity
            }
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
            assertClose(y, Reference.conv2d(x, w, nil, stride: 1, padding: padding), rtol: 1e-4, atol: 1e-4, "kernel \(k)")
            let dy = Tensor.randn(y.shape, generator: g)
            let (dx, dw, _) = Tensor.conv2dBackward(
                dy, input: x, weight: w, stride: (1, 1), padding: (padding, padding),
                needInput: true, needWeight: true, needBias: false)
            let (ndx, ndw) = Reference.conv2dBackward(x, w, dy, stride: 1, padding: padding)
            assertClose(dx!, ndx, rtol: 1e-4, atol: 1e-4, "dx, kernel \(k)")
            assertClose(dw!, ndw, rtol: 1e-4, atol: 1e-3, "dw, kernel \(k)")
            // Only the input's gradient asked for: no columns are built at all.
            let (dxOnly, _, _) = Tensor.conv2dBackward(
                dy, input: x, weight: w, stride: (1, 1), padding: (padding, padding),
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

    func testChannelMajorMapsGiveTheNCHWOpsValuesBitForBit() {
        // Maps kept channel-major: the layout round trip, pooling, and convolutions with batch
        // norm (or a bias), residual and ReLU (shifted, pointwise, strided, and from an NCHW
        // input) give exactly what the NCHW ops give one after the other.
        let g = RandomGenerator(seed: 21)
        let x = Tensor.randn([3, 5, 9, 7], generator: g)
        let maps = ChannelMajorMaps(x)
        XCTAssertEqual(maps.tensor(), x)
        let window = Tensor.fixedPoolGeometry(height: 9, width: 7, kernel: (3, 3), stride: (2, 2), padding: (1, 1), op: "max_pool2d", shape: x.shape)
        XCTAssertEqual(maps.maxPooled(window).tensor(), x.maxPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1)))
        XCTAssertEqual(maps.averagePooled(window).tensor(), x.avgPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1)))
        let global = PoolGeometry(height: 9, width: 7, outH: 1, outW: 1, windows: .adaptive)
        XCTAssertEqual(maps.averagePooled(global).tensor(), x.adaptiveAvgPool2d((1, 1)))
        for (k, stride, padding) in [(3, 1, 1), (1, 1, 0), (3, 2, 1), (1, 2, 0), (5, 1, 2)] {
            let weight = Tensor.randn([6, 5, k, k], generator: g), bias = Tensor.randn([6], generator: g)
            let scale = Tensor.randn([6], generator: g), shift = Tensor.randn([6], generator: g)
            let geometry = Tensor.convolutionGeometry(x, weight, stride: (stride, stride), padding: (padding, padding))
            let packed = Tensor.inferenceWeight(weight, geometry)
            let residual = Tensor.randn([3, 6, geometry.outH, geometry.outW], generator: g)
            let convolved = Tensor.conv2d(x, weight: weight, stride: (stride, stride), padding: (padding, padding))
            let normalized = Tensor.channelAffine(convolved, scale: scale, shift: shift, relu: false)
            let fromMaps = maps.convolved(
                weight: packed, geometry, scale: scale, shift: shift, residual: ChannelMajorMaps(residual), relu: true)
            XCTAssertEqual(fromMaps.tensor(), (normalized + residual).relu(), "kernel \(k) stride \(stride)")
            let fromTensor = ChannelMajorMaps.convolved(x, weight: packed, geometry, scale: scale, shift: shift, residual: nil, relu: false)
            XCTAssertEqual(fromTensor.tensor(), normalized, "NCHW input, kernel \(k) stride \(stride)")
            let withBias = maps.convolved(weight: packed, geometry, scale: nil, shift: bias, residual: nil, relu: false)
            XCTAssertEqual(
                withBias.tensor(), Tensor.conv2d(x, weight: weight, bias: bias, stride: (stride, stride), padding: (padding, padding)),
                "bias, kernel \(k) stride \(stride)")
        }
    }
}
