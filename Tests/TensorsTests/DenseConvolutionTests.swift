import TestSupport
import XCTest
@testable import Tensors

/// Convolutions over maps of a few pixels as one dense product (`Kernels/DenseConvolution.swift`):
/// which geometries take it, its links worked out by hand, and its results, forward and backward,
/// against naive loops and the im2col path it replaces.
final class DenseConvolutionTests: XCTestCase {
    private func geometry(size: (Int, Int), kernel: Int, stride: Int, padding: Int, channels: Int = 4) -> ConvGeometry {
        ConvGeometry(
            channels: channels, height: size.0, width: size.1, kernel: (kernel, kernel), stride: (stride, stride),
            padding: (padding, padding))
    }

    func testChosenOnlyWhereItDoesNoMoreWorkThanIm2col() {
        XCTAssertNotNil(DenseConvolution(geometry(size: (2, 2), kernel: 3, stride: 1, padding: 1)), "ResNet's 2x2 stage")
        XCTAssertNotNil(DenseConvolution(geometry(size: (1, 1), kernel: 3, stride: 1, padding: 1)), "one tap in use")
        XCTAssertNotNil(DenseConvolution(geometry(size: (2, 2), kernel: 3, stride: 2, padding: 1)), "2x2 to 1x1, four taps")
        XCTAssertNotNil(DenseConvolution(geometry(size: (1, 1), kernel: 1, stride: 1, padding: 0)))
        XCTAssertNil(DenseConvolution(geometry(size: (4, 4), kernel: 3, stride: 1, padding: 1)), "16 pixels, 9 taps")
        XCTAssertNil(DenseConvolution(geometry(size: (2, 2), kernel: 1, stride: 2, padding: 0)), "4 pixels, 1 tap")
        XCTAssertNil(DenseConvolution(geometry(size: (3, 3), kernel: 3, stride: 1, padding: 1)), "81 links: 9 times the weight")
        XCTAssertNil(DenseConvolution(geometry(size: (7, 7), kernel: 3, stride: 1, padding: 1)))
    }

    func testLinksOfA3x3KernelOver2x2Maps() throws {
        let d = try XCTUnwrap(DenseConvolution(geometry(size: (2, 2), kernel: 3, stride: 1, padding: 1)))
        XCTAssertEqual(d.links.count, 16)
        // Input pixel q reaches output pixel p through tap (ih - oh + 1)·3 + (iw - ow + 1).
        let expected: [[Int32]] = [
            // p:  (0,0) (0,1) (1,0) (1,1)
            [4, 3, 1, 0],  // q = (0,0)
            [5, 4, 2, 1],  // q = (0,1)
            [7, 6, 4, 3],  // q = (1,0)
            [8, 7, 5, 4],  // q = (1,1)
        ]
        XCTAssertEqual(d.links, expected.flatMap { $0 })
        // A stride-2 window over 2x2 maps, one output pixel: the taps of the window's lower right.
        let s2 = try XCTUnwrap(DenseConvolution(geometry(size: (2, 2), kernel: 3, stride: 2, padding: 1)))
        XCTAssertEqual(s2.links, [4, 5, 7, 8])
    }

    func testDenseMatrixAndWeightGradientByHand() throws {
        // One channel in, one out, 3x3 kernel with taps 1...9 over a 2x2 map.
        let d = try XCTUnwrap(DenseConvolution(geometry(size: (2, 2), kernel: 3, stride: 1, padding: 1, channels: 1)))
        let w = Tensor(shape: [1, 1, 3, 3], scalars: (1...9).map(Float.init))
        let matrix = Tensor.denseWeight(w, d)
        // Row p (output pixel), column q (input pixel).
        XCTAssertEqual(matrix.shape, [1, 4, 4])
        XCTAssertEqual(matrix.scalars, [5, 6, 8, 9, 4, 5, 7, 8, 2, 3, 5, 6, 1, 2, 4, 5])
        // dM = all ones: each tap's gradient counts the pixel pairs it links.
        var dw = [Float](repeating: -1, count: 9)
        let ones = [Float](repeating: 1, count: 16)
        ones.withUnsafeBufferPointer { Kernels.denseConvolutionWeightGradient($0.baseAddress!, outChannels: 1, d, &dw) }
        XCTAssertEqual(dw, [1, 2, 1, 2, 4, 2, 1, 2, 1])
    }

    /// Geometries with a dense form: (channels in, out, height, width, kernel, stride, padding).
    private let cases = [
        (6, 5, 2, 2, 3, 1, 1), (6, 5, 1, 1, 3, 1, 1), (6, 5, 2, 2, 3, 2, 1), (3, 4, 1, 2, 3, 1, 1), (5, 3, 1, 1, 1, 1, 0),
        (4, 4, 2, 2, 5, 1, 2),
    ]

    func testForwardAndBackwardAgainstNaiveLoopsAndIm2col() throws {
        let gen = RandomGenerator(seed: 41)
        for (cin, cout, h, w, k, s, p) in cases {
            for batch in [1, 5] {
                let label = "\(cin)->\(cout) \(h)x\(w) kernel \(k) stride \(s) padding \(p) batch \(batch)"
                let x = Tensor.randn([batch, cin, h, w], generator: gen)
                let weight = Tensor.randn([cout, cin, k, k], generator: gen), bias = Tensor.randn([cout], generator: gen)
                XCTAssertNotNil(DenseConvolution(Tensor.convolutionGeometry(x, weight, stride: (s, s), padding: (p, p))), label)
                let y = Tensor.conv2d(x, weight: weight, bias: bias, stride: (s, s), padding: (p, p))
                assertClose(y, Reference.conv2d(x, weight, bias, stride: s, padding: p), rtol: 1e-4, atol: 1e-4, label)
                let im2col = Tensor.conv2d(x, weight: weight, bias: bias, stride: (s, s), padding: (p, p), method: .im2col)
                assertClose(y, im2col, rtol: 1e-5, atol: 1e-5, label)

                let dy = Tensor.randn(y.shape, generator: gen)
                let (dx, dw, db) = Tensor.convolutionBackward(
                    dy, input: x, weight: weight, stride: (s, s), padding: (p, p), needInput: true, needWeight: true, needBias: true)
                let (ndx, ndw) = Reference.conv2dBackward(x, weight, dy, stride: s, padding: p)
                assertClose(try XCTUnwrap(dx), ndx, rtol: 1e-4, atol: 1e-4, label)
                assertClose(try XCTUnwrap(dw), ndw, rtol: 1e-4, atol: 1e-4, label)
                let (dx0, dw0, db0) = Tensor.convolutionBackward(
                    dy, input: x, weight: weight, stride: (s, s), padding: (p, p), needInput: true, needWeight: true, needBias: true,
                    method: .im2col)
                assertClose(try XCTUnwrap(dx), try XCTUnwrap(dx0), rtol: 1e-5, atol: 1e-5, label)
                assertClose(try XCTUnwrap(dw), try XCTUnwrap(dw0), rtol: 1e-5, atol: 1e-5, label)
                XCTAssertEqual(db, db0, label)
            }
        }
    }

    func testResultsDoNotDependOnTheThreadCount() {
        let gen = RandomGenerator(seed: 43)
        let x = Tensor.randn([70, 96, 2, 2], generator: gen), w = Tensor.randn([80, 96, 3, 3], generator: gen)
        let dy = Tensor.randn([70, 80, 2, 2], generator: gen)
        func run() -> [Tensor] {
            let (dx, dw, _) = Tensor.convolutionBackward(
                dy, input: x, weight: w, stride: (1, 1), padding: (1, 1), needInput: true, needWeight: true, needBias: false)
            return [Tensor.conv2d(x, weight: w, padding: (1, 1)), dx!, dw!]
        }
        let saved = Threads.count
        defer { Threads.count = saved }
        Threads.count = 1
        let one = run()
        Threads.count = 2
        let two = run()
        for (a, b) in zip(one, two) { XCTAssertEqual(a.scalars, b.scalars) }
    }
}
