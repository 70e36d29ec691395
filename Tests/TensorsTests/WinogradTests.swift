import TestSupport
import XCTest
@testable import Tensors

/// Winograd F(2×2, 3×3) convolutions: the kernels against naive loops (`Reference`), forward and
/// both gradients, over odd and even map sizes, every padding it takes, and batches of tiles.
final class WinogradTests: XCTestCase {
    /// Runs the Winograd forward on NCHW `x` with weight `w` (no epilogue).
    private func forward(_ x: Tensor, _ w: Tensor, padding: Int) -> Tensor {
        let g = WinogradGeometry(channels: x.shape[1], height: x.shape[2], width: x.shape[3], padding: (padding, padding))
        let (o, c) = (w.shape[0], w.shape[1])
        let u = Tensor(uninitializedShape: [16, o, c])
        Kernels.winogradWeight(w.pointer, outChannels: o, channels: c, u.pointer)
        let y = Tensor(uninitializedShape: [x.shape[0], o, g.outH, g.outW])
        Kernels.winogradConvolution(
            x.pointer, layout: .nchw(channels: c), samples: x.shape[0], g, weight: u.pointer, outChannels: o,
            epilogue: Kernels.ChannelEpilogue(), y.pointer, outLayout: .nchw(channels: o))
        return y
    }

    func testForwardAgainstNaive() {
        let gen = RandomGenerator(seed: 21)
        for (h, w, padding) in [(8, 8, 1), (7, 9, 1), (5, 6, 0), (6, 5, 2), (2, 2, 1), (17, 23, 1), (3, 4, 2)] {
            for batch in [1, 3] {
                let x = Tensor.randn([batch, 8, h, w], generator: gen)
                let k = Tensor.randn([9, 8, 3, 3], generator: gen)
                assertClose(
                    forward(x, k, padding: padding), Reference.conv2d(x, k, nil, stride: 1, padding: padding),
                    rtol: 1e-4, atol: 1e-4, "\(h)x\(w) padding \(padding) batch \(batch)")
            }
        }
    }

    func testBackwardAgainstNaive() {
        let gen = RandomGenerator(seed: 22)
        for (h, w, padding) in [(8, 8, 1), (7, 9, 1), (5, 6, 0), (6, 5, 2), (2, 2, 1), (17, 23, 1)] {
            for batch in [1, 3] {
                let (c, o) = (8, 10)
                let x = Tensor.randn([batch, c, h, w], generator: gen)
                let k = Tensor.randn([o, c, 3, 3], generator: gen)
                let g = WinogradGeometry(channels: c, height: h, width: w, padding: (padding, padding))
                let dy = Tensor.randn([batch, o, g.outH, g.outW], generator: gen)
                let dx = Tensor(uninitializedShape: x.shape), dw = Tensor(uninitializedShape: k.shape)
                Kernels.winogradBackward(
                    dy.pointer, x: x.pointer, weight: k.pointer, samples: batch, g, outChannels: o,
                    dx: dx.pointer, dw: dw.pointer)
                let (ndx, ndw) = Reference.conv2dBackward(x, k, dy, stride: 1, padding: padding)
                let label = "\(h)x\(w) padding \(padding) batch \(batch)"
                assertClose(dx, ndx, rtol: 1e-4, atol: 1e-4, "dx " + label)
                assertClose(dw, ndw, rtol: 1e-4, atol: 1e-3, "dw " + label)
            }
        }
    }

    func testConv2dTakesWinogradWhereItGainsAndAgreesWithIm2col() {
        let gen = RandomGenerator(seed: 23)
        func geometry(_ c: Int, _ o: Int, _ size: Int, stride: Int = 1) -> WinogradGeometry? {
            let g = ConvGeometry(channels: c, height: size, width: size, kernel: (3, 3), stride: (stride, stride), padding: (1, 1))
            return WinogradGeometry(g, outChannels: o)
        }
        XCTAssertNotNil(geometry(64, 64, 56))
        XCTAssertNotNil(geometry(16, 16, 14))
        XCTAssertNotNil(geometry(512, 512, 7))
        XCTAssertNil(geometry(64, 64, 7), "7x7 maps with 64 channels measured slower")
        XCTAssertNil(geometry(256, 256, 2), "2x2 maps measured slower")
        XCTAssertNil(geometry(4, 64, 56), "too few input channels")
        XCTAssertNil(geometry(64, 64, 56, stride: 2))
        XCTAssertNil(geometry(512, 512, 1), "one tap in use")
        XCTAssertNotNil(geometry(64, 64, 128))
        XCTAssertNil(geometry(64, 64, 256), "a sample's transforms would take 128 MB")
        // The last: three batches of tiles.
        for (n, c, o, h, w) in [(3, 16, 12, 15, 15), (3, 16, 12, 14, 20), (20, 64, 64, 30, 29)] {
            let x = Tensor.randn([n, c, h, w], generator: gen)
            let k = Tensor.randn([o, c, 3, 3], generator: gen), b = Tensor.randn([o], generator: gen)
            let g = Tensor.convolutionGeometry(x, k, stride: (1, 1), padding: (1, 1))
            XCTAssertNotNil(WinogradGeometry(g, outChannels: o))
            let fast = Tensor.conv2d(x, weight: k, bias: b, padding: (1, 1))
            let im2col = Tensor.conv2d(x, weight: k, bias: b, stride: (1, 1), padding: (1, 1), method: .im2col)
            assertClose(fast, im2col, rtol: 1e-4, atol: 1e-4, "forward \(h)x\(w)")
            let dy = Tensor.randn(fast.shape, generator: gen)
            let (dx, dw, db) = Tensor.convolutionBackward(
                dy, input: x, weight: k, stride: (1, 1), padding: (1, 1), needInput: true, needWeight: true, needBias: true)
            let (dx0, dw0, db0) = Tensor.convolutionBackward(
                dy, input: x, weight: k, stride: (1, 1), padding: (1, 1), needInput: true, needWeight: true, needBias: true,
                method: .im2col)
            assertClose(dx!, dx0!, rtol: 1e-4, atol: 1e-4, "dx \(h)x\(w)")
            assertClose(dw!, dw0!, rtol: 1e-4, atol: 1e-3, "dw \(h)x\(w)")
            XCTAssertEqual(db, db0)
        }
    }

    func testResultsDoNotDependOnTheThreadCount() {
        let gen = RandomGenerator(seed: 24)
        let x = Tensor.randn([5, 16, 17, 17], generator: gen), k = Tensor.randn([16, 16, 3, 3], generator: gen)
        let dy = Tensor.randn([5, 16, 17, 17], generator: gen)
        func run() -> [Tensor] {
            let (dx, dw, _) = Tensor.convolutionBackward(
                dy, input: x, weight: k, stride: (1, 1), padding: (1, 1), needInput: true, needWeight: true, needBias: false)
            return [Tensor.conv2d(x, weight: k, padding: (1, 1)), dx!, dw!]
        }
        let saved = Threads.count
        defer { Threads.count = saved }
        Threads.count = 1
        let one = run()
        Threads.count = 2
        XCTAssertEqual(one, run())
    }

    func testChannelMajorMapsGiveConv2dsBitsThroughWinograd() {
        // The inference layout's Winograd convolution with its fused batch-norm epilogue gives
        // exactly what conv2d then the batch norm's affine map give, from either input layout.
        // 20 samples of 64 channels: three batches of tiles.
        let gen = RandomGenerator(seed: 25)
        let x = Tensor.randn([20, 64, 30, 29], generator: gen)
        let weight = Tensor.randn([64, 64, 3, 3], generator: gen)
        let scale = Tensor.randn([64], generator: gen), shift = Tensor.randn([64], generator: gen)
        let geometry = Tensor.convolutionGeometry(x, weight, stride: (1, 1), padding: (1, 1))
        let prepared = Tensor.inferenceWeight(weight, geometry)
        guard case .winograd(_, let wg) = prepared else { return XCTFail("expected Winograd's method for \(geometry)") }
        XCTAssertLessThan(Kernels.winogradSamples(wg, outChannels: 64, batch: 20), 10)
        let residual = Tensor.randn([20, 64, 30, 29], generator: gen)
        let normalized = Tensor.channelAffine(Tensor.conv2d(x, weight: weight, padding: (1, 1)), scale: scale, shift: shift, relu: false)
        let fromMaps = ChannelMajorMaps(x).convolved(
            weight: prepared, geometry, scale: scale, shift: shift, residual: ChannelMajorMaps(residual), relu: true)
        XCTAssertEqual(fromMaps.tensor(), (normalized + residual).relu())
        let fromTensor = ChannelMajorMaps.convolved(x, weight: prepared, geometry, scale: scale, shift: shift, residual: nil, relu: false)
        XCTAssertEqual(fromTensor.tensor(), normalized)
    }
}
