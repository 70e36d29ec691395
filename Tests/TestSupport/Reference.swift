import Tensors

/// Naive reference implementations, written for obviousness rather than speed, that the fast
/// kernels are tested against.
public enum Reference {
    /// `C = alpha * op(A) op(B) + beta * C` by the textbook triple loop, accumulated in Double.
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: [Float], lda: Int, b: [Float], ldb: Int, beta: Float, c: [Float], ldc: Int
    ) -> [Float] {
        var out = c
        for i in 0..<m {
            for j in 0..<n {
                var acc = 0.0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    acc += Double(av) * Double(bv)
                }
                let old = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
                out[i * ldc + j] = Float(Double(alpha) * acc + old)
            }
        }
        return out
    }

    /// Row-major strides of a shape.
    public static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) { s[d] = acc; acc *= shape[d] }
        return s
    }

    /// The multi-index of flat position `flat` in `shape`.
    public static func unravel(_ flat: Int, _ shape: [Int]) -> [Int] {
        var index = [Int](repeating: 0, count: shape.count)
        var rest = flat
        for d in stride(from: shape.count - 1, through: 0, by: -1) { index[d] = rest % shape[d]; rest /= shape[d] }
        return index
    }

    /// The element of `t` that broadcasting maps output multi-index `index` to.
    public static func broadcastElement(_ t: Tensor, _ index: [Int]) -> Float {
        let offset = index.count - t.rank
        let s = strides(t.shape)
        var flat = 0
        for d in 0..<t.rank where t.shape[d] != 1 { flat += index[d + offset] * s[d] }
        return t.scalars[flat]
    }

    /// `f(a, b)` element by element with broadcasting, one multi-index at a time.
    public static func broadcast(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        let shape = broadcastShape(a.shape, b.shape)!
        let n = shape.reduce(1, *)
        let av = a, bv = b
        var values = [Float](repeating: 0, count: n)
        for i in 0..<n {
            let index = unravel(i, shape)
            values[i] = f(broadcastElement(av, index), broadcastElement(bv, index))
        }
        return Tensor(shape: shape, scalars: values)
    }

    /// `f` over axis `dim` of `t`, one output element at a time.
    public static func reduce(_ t: Tensor, dim: Int, _ f: ([Float]) -> Float) -> Tensor {
        var outShape = t.shape
        outShape.remove(at: dim)
        let n = outShape.reduce(1, *)
        let s = strides(t.shape)
        let values = t.scalars
        var out = [Float](repeating: 0, count: n)
        for i in 0..<n {
            var index = unravel(i, outShape)
            index.insert(0, at: dim)
            var base = 0
            for d in 0..<t.rank { base += index[d] * s[d] }
            out[i] = f((0..<t.shape[dim]).map { values[base + $0 * s[dim]] })
        }
        return Tensor(shape: outShape, scalars: out)
    }

    /// The textbook 2-D convolution (NCHW input, `[Cout, C, k, k]` weight): four nested loops per output element, in Double.
    public static func conv2d(_ x: Tensor, _ w: Tensor, _ b: Tensor?, stride: Int, padding: Int) -> Tensor {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (co, k) = (w.shape[0], w.shape[2])
        let oh = (h + 2 * padding - k) / stride + 1, ow = (wd + 2 * padding - k) / stride + 1
        let xs = x.scalars, ws = w.scalars
        var out = [Float](repeating: 0, count: n * co * oh * ow)
        for s in 0..<n {
            for o in 0..<co {
                for i in 0..<oh {
                    for j in 0..<ow {
                        var acc = Double(b?.scalars[o] ?? 0)
                        for ci in 0..<c {
                            for u in 0..<k {
                                for v in 0..<k {
                                    let ih = i * stride - padding + u, iw = j * stride - padding + v
                                    guard ih >= 0, ih < h, iw >= 0, iw < wd else { continue }
                                    acc += Double(xs[((s * c + ci) * h + ih) * wd + iw]) * Double(ws[((o * c + ci) * k + u) * k + v])
                                }
                            }
                        }
                        out[((s * co + o) * oh + i) * ow + j] = Float(acc)
                    }
                }
            }
        }
        return Tensor(shape: [n, co, oh, ow], scalars: out)
    }

    /// dX and dW of a convolution by direct loops: each output gradient sent back along the
    /// same index arithmetic as the forward pass.
    public static func conv2dBackward(_ x: Tensor, _ w: Tensor, _ dy: Tensor, stride: Int, padding: Int) -> (Tensor, Tensor) {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (co, k, oh, ow) = (w.shape[0], w.shape[2], dy.shape[2], dy.shape[3])
        let xs = x.scalars, ws = w.scalars, gs = dy.scalars
        var dx = [Double](repeating: 0, count: x.count), dw = [Double](repeating: 0, count: w.count)
        for s in 0..<n {
            for o in 0..<co {
                for i in 0..<oh {
                    for j in 0..<ow {
                        let gv = Double(gs[((s * co + o) * oh + i) * ow + j])
                        for ci in 0..<c {
                            for u in 0..<k {
                                for v in 0..<k {
                                    let ih = i * stride - padding + u, iw = j * stride - padding + v
                                    guard ih >= 0, ih < h, iw >= 0, iw < wd else { continue }
                                    let xi = ((s * c + ci) * h + ih) * wd + iw, wi = ((o * c + ci) * k + u) * k + v
                                    dx[xi] += gv * Double(ws[wi])
                                    dw[wi] += gv * Double(xs[xi])
                                }
                            }
                        }
                    }
                }
            }
        }
        return (Tensor(shape: x.shape, scalars: dx.map(Float.init)), Tensor(shape: w.shape, scalars: dw.map(Float.init)))
    }
}
