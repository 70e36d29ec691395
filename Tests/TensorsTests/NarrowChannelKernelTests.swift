import TestSupport
import XCTest
@testable import Tensors

/// Batch norm's per-channel passes over maps narrower than a vector (`inner` < 16), which walk
/// each sample's row of `channels·inner` values: against sums in Double over the same values,
/// for shapes with partial last vectors, more than one block of 16 samples, one sample, and
/// `[N, C]`; and the same bits on 1 and 2 threads.
final class NarrowChannelKernelTests: XCTestCase {
    /// (outer, channels, inner): ResNet's 1×1 and 2×2 maps, odd widths, 1 and 37 samples.
    let shapes = [(64, 512, 1), (64, 256, 4), (5, 7, 4), (3, 9, 15), (37, 33, 1), (1, 20, 6), (40, 3, 2)]

    /// Value `i` of channel `c` in sample `o` of a `[outer, channels, inner]` buffer.
    private func element(_ values: [Float], _ o: Int, _ c: Int, _ i: Int, channels: Int, inner: Int) -> Double {
        Double(values[(o * channels + c) * inner + i])
    }

    func testStatisticsAgainstDoubleSums() {
        let g = RandomGenerator(seed: 31)
        for (outer, channels, inner) in shapes {
            // Channels far from zero with a small spread: the shifted sums must not cancel.
            let x = Tensor.randn([outer, channels, inner], generator: g) * 0.01 + 1000
            let mean = Tensor(uninitializedShape: [channels]), variance = Tensor(uninitializedShape: [channels])
            Kernels.channelStatistics(
                x.pointer, outer: outer, channels: channels, inner: inner, mean: mean.pointer, variance: variance.pointer)
            let values = x.scalars
            for c in 0..<channels {
                var items: [Double] = []
                for o in 0..<outer { for i in 0..<inner { items.append(element(values, o, c, i, channels: channels, inner: inner)) } }
                let m = items.reduce(0, +) / Double(items.count)
                let v = items.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(items.count)
                XCTAssertEqual(Double(mean.scalars[c]), m, accuracy: 1e-4, "\((outer, channels, inner)) channel \(c)")
                XCTAssertEqual(Double(variance.scalars[c]), v, accuracy: max(v * 1e-3, 1e-9), "\((outer, channels, inner)) channel \(c)")
            }
        }
    }

    func testAffineAgainstElementByElement() {
        let g = RandomGenerator(seed: 32)
        for (outer, channels, inner) in shapes {
            let a = Tensor.randn([outer, channels, inner], generator: g), b = Tensor.randn(a.shape, generator: g)
            let gate = Tensor.randn(a.shape, generator: g)
            let scale = Tensor.randn([channels], generator: g), bScale = Tensor.randn([channels], generator: g)
            let shift = Tensor.randn([channels], generator: g)
            for (withB, withGate, relu) in [(false, false, false), (false, false, true), (true, true, false), (true, false, true)] {
                let out = Tensor(uninitializedShape: a.shape)
                Kernels.channelAffine(
                    a.pointer, withB ? b.pointer : nil, outer: outer, channels: channels, inner: inner, scale: scale.pointer,
                    bScale: withB ? bScale.pointer : nil, shift: shift.pointer, gate: withGate ? gate.pointer : nil, relu: relu,
                    out.pointer)
                let (av, bv, gv, result) = (a.scalars, b.scalars, gate.scalars, out.scalars)
                for o in 0..<outer {
                    for c in 0..<channels {
                        for i in 0..<inner {
                            let index = (o * channels + c) * inner + i
                            var x = Double(av[index])
                            if withGate && !(gv[index] > 0) { x = 0 }
                            var expected = Double(shift.scalars[c]) + Double(scale.scalars[c]) * x
                            if withB { expected += Double(bScale.scalars[c]) * Double(bv[index]) }
                            if relu { expected = max(0, expected) }
                            XCTAssertEqual(
                                Double(result[index]), expected, accuracy: 1e-5 * (1 + abs(expected)),
                                "\((outer, channels, inner)) b \(withB) gate \(withGate) relu \(relu) at \(index)")
                        }
                    }
                }
            }
        }
    }

    func testGradientSumsAgainstDoubleSums() {
        let g = RandomGenerator(seed: 33)
        for (outer, channels, inner) in shapes {
            let grad = Tensor.randn([outer, channels, inner], generator: g), x = Tensor.randn(grad.shape, generator: g)
            let gate = Tensor.randn(grad.shape, generator: g), mean = Tensor.randn([channels], generator: g)
            for withGate in [false, true] {
                let sumG = Tensor(uninitializedShape: [channels]), sumGX = Tensor(uninitializedShape: [channels])
                Kernels.channelGradientSums(
                    grad.pointer, x.pointer, outer: outer, channels: channels, inner: inner, mean: mean.pointer,
                    gate: withGate ? gate.pointer : nil, sumG: sumG.pointer, sumGX: sumGX.pointer)
                let (gv, xv, gateValues) = (grad.scalars, x.scalars, gate.scalars)
                for c in 0..<channels {
                    var s = 0.0, sx = 0.0
                    for o in 0..<outer {
                        for i in 0..<inner {
                            let index = (o * channels + c) * inner + i
                            let gi = withGate && !(gateValues[index] > 0) ? 0 : Double(gv[index])
                            s += gi
                            sx += gi * (Double(xv[index]) - Double(mean.scalars[c]))
                        }
                    }
                    let bound = 1e-5 * Double(outer * inner)
                    XCTAssertEqual(Double(sumG.scalars[c]), s, accuracy: bound, "\((outer, channels, inner)) gate \(withGate) Σg \(c)")
                    XCTAssertEqual(Double(sumGX.scalars[c]), sx, accuracy: bound, "\((outer, channels, inner)) gate \(withGate) Σg·x \(c)")
                }
            }
        }
    }

    func testSameBitsOnOneAndTwoThreads() {
        // Large enough that every pass splits over two threads (≥ 2·2¹⁵ elements).
        let g = RandomGenerator(seed: 34)
        let x = Tensor.randn([64, 1024, 1, 1], generator: g)
        let weight = Tensor.randn([1024], generator: g), bias = Tensor.randn([1024], generator: g)
        let upstream = Tensor.randn(x.shape, generator: g)
        func run(threads: Int) -> [[Float]] {
            let saved = Threads.count
            defer { Threads.count = saved }
            Threads.count = threads
            let (output, mean, variance) = Tensor.batchNorm(
                x, weight: weight, bias: bias, runningMean: Tensor.zeros([1024]), runningVariance: Tensor.ones([1024]),
                training: true, eps: 1e-5, relu: true)
            let invStd = Tensor.ones([1024]) / (variance + 1e-5).sqrt()
            let (dx, dWeight, dBias) = Tensor.normalizationBackward(
                upstream, input: x, weight: weight, mean: mean, invStd: invStd, training: true, reluOutput: output,
                needInput: true)
            return [output, mean, variance, invStd, dx!, dWeight, dBias].map(\.scalars)
        }
        XCTAssertEqual(run(threads: 1), run(threads: 2))
    }
}
