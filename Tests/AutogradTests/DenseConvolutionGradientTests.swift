@testable import Autograd
import TestSupport
import XCTest
@testable import Tensors

/// A convolution over small maps taken as one dense product (`Kernels/DenseConvolution.swift`)
/// through autograd: backward reuses the forward pass's dense matrix, and never mistakes an im2col
/// pass's gathered weight for it.
final class DenseConvolutionGradientTests: XCTestCase {
    /// Geometries with a dense form: (channels in, out, height, width, kernel, stride, padding).
    private let cases = [(6, 5, 2, 2, 3, 1, 1), (6, 5, 1, 1, 3, 1, 1), (6, 5, 2, 2, 3, 2, 1), (3, 4, 1, 2, 3, 1, 1)]

    func testAutogradKeepsTheDenseMatrixForBackward() throws {
        let gen = RandomGenerator(seed: 42)
        for (cin, cout, h, w, k, s, p) in cases {
            let label = "\(cin)->\(cout) \(h)x\(w) kernel \(k) stride \(s)"
            var x = Tensor.randn([3, cin, h, w], generator: gen)
            var weight = Tensor.randn([cout, cin, k, k], generator: gen)
            x.requiresGrad = true
            weight.requiresGrad = true
            let y = Tensor.conv2d(x, weight: weight, stride: (s, s), padding: (p, p))
            let dy = Tensor.randn(y.shape, generator: gen)
            y.backward(dy)
            let (ndx, ndw) = Reference.conv2dBackward(x.detach(), weight.detach(), dy, stride: s, padding: p)
            assertClose(try XCTUnwrap(x.grad), ndx, rtol: 1e-4, atol: 1e-4, label)
            assertClose(try XCTUnwrap(weight.grad), ndw, rtol: 1e-4, atol: 1e-4, label)
        }
        // An im2col forward pass recorded for autograd keeps its gathered weight `[Cout, C]`,
        // which the dense backward must not read as its matrix `[C, Cout]`: a 3x3 kernel over
        // 1x1 maps with as many channels in as out, where the two have the same elements.
        var x = Tensor.randn([2, 4, 1, 1], generator: gen), weight = Tensor.randn([4, 4, 3, 3], generator: gen)
        x.requiresGrad = true
        weight.requiresGrad = true
        let y = Tensor.conv2d(x, weight: weight, bias: nil, stride: (1, 1), padding: (1, 1), method: .im2col)
        let dy = Tensor.randn(y.shape, generator: gen)
        y.backward(dy)
        let (ndx, ndw) = Reference.conv2dBackward(x.detach(), weight.detach(), dy, stride: 1, padding: 1)
        assertClose(try XCTUnwrap(x.grad), ndx, rtol: 1e-4, atol: 1e-4, "im2col forward, dense backward")
        assertClose(try XCTUnwrap(weight.grad), ndw, rtol: 1e-4, atol: 1e-4, "im2col forward, dense backward")
    }
}
