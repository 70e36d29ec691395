// Pooling over the last two axes of [N, C, H, W] tensors: max and average, with fixed windows
// or adaptive ones.

extension Tensor {
    private func poolPlanes(_ op: String) -> (planes: Int, height: Int, width: Int) {
        guard rank == 4 else { fatalError("\(op): expected input [N, C, H, W], got \(shape)") }
        return (shape[0] * shape[1], shape[2], shape[3])
    }

    private static func fixedGeometry(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int)?, padding: (Int, Int), op: String) -> PoolGeometry {
        let (_, h, w) = x.poolPlanes(op)
        return fixedPoolGeometry(height: h, width: w, kernel: kernel, stride: stride, padding: padding, op: op, shape: x.shape)
    }

    /// The windows of a fixed-window pooling over `height × width` planes (of a tensor of `shape`,
    /// named in the message when they do not fit).
    static func fixedPoolGeometry(
        height h: Int, width w: Int, kernel: (Int, Int), stride: (Int, Int)?, padding: (Int, Int),
        op: String, shape: [Int]
    ) -> PoolGeometry {
        let s = stride ?? kernel
        guard kernel.0 > 0, kernel.1 > 0, s.0 > 0, s.1 > 0, padding.0 >= 0, padding.1 >= 0,
            padding.0 * 2 <= kernel.0, padding.1 * 2 <= kernel.1
        else {
            fatalError("\(op): kernel \(kernel), stride \(s) and padding \(padding) are invalid (padding may be at most half the kernel)")
        }
        let outH = (h + 2 * padding.0 - kernel.0) / s.0 + 1, outW = (w + 2 * padding.1 - kernel.1) / s.1 + 1
        guard outH > 0, outW > 0 else { fatalError("\(op): kernel \(kernel) is larger than the padded input \(shape)") }
        return PoolGeometry(
            height: h, width: w, outH: outH, outW: outW,
            windows: .fixed(kernel: [kernel.0, kernel.1], stride: [s.0, s.1], padding: [padding.0, padding.1]))
    }

    private static func adaptiveGeometry(_ x: Tensor, outputSize: (Int, Int), op: String) -> PoolGeometry {
        let (_, h, w) = x.poolPlanes(op)
        guard outputSize.0 > 0, outputSize.1 > 0 else { fatalError("\(op): output size \(outputSize) must be at least 1x1") }
        return PoolGeometry(height: h, width: w, outH: outputSize.0, outW: outputSize.1, windows: .adaptive)
    }

    private func maxPooled(_ g: PoolGeometry) -> Tensor {
        let result = Tensor(uninitializedShape: [shape[0], shape[1], g.outH, g.outW])
        // The winners' positions serve only the backward pass.
        guard GradMode.isEnabled, record?.requiresGrad == true else {
            Kernels.maxPool(pointer, planes: shape[0] * shape[1], g, result.pointer, argmax: nil)
            return result
        }
        var argmax = [Int32](repeating: 0, count: result.count)
        argmax.withUnsafeMutableBufferPointer { Kernels.maxPool(pointer, planes: shape[0] * shape[1], g, result.pointer, argmax: $0.baseAddress!) }
        return result.recorded(.maxPool(geometry: g, argmax: argmax), self)
    }

    private func avgPooled(_ g: PoolGeometry) -> Tensor {
        let result = Tensor(uninitializedShape: [shape[0], shape[1], g.outH, g.outW])
        Kernels.avgPool(pointer, planes: shape[0] * shape[1], g, result.pointer)
        return result.recorded(.avgPool(geometry: g), self)
    }

    /// Max or average pooling of `[N, C, H, W]` over the windows of `g`, recording nothing (an
    /// inference plan's pooling of NCHW tensors: the kernels the ops run).
    static func pooled(_ x: Tensor, _ g: PoolGeometry, max: Bool) -> Tensor {
        precondition(x.rank == 4 && x.shape[2] == g.height && x.shape[3] == g.width, "pooled: the geometry is for another input than \(x.shape)")
        let result = Tensor(uninitializedShape: [x.shape[0], x.shape[1], g.outH, g.outW])
        if max {
            Kernels.maxPool(x.pointer, planes: x.shape[0] * x.shape[1], g, result.pointer, argmax: nil)
        } else {
            Kernels.avgPool(x.pointer, planes: x.shape[0] * x.shape[1], g, result.pointer)
        }
        return result
    }

    /// Max pooling (PyTorch's `F.max_pool2d`); `stride` defaults to the kernel size.
    public func maxPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) -> Tensor {
        maxPooled(Tensor.fixedGeometry(self, kernel: kernel, stride: stride, padding: padding, op: "max_pool2d"))
    }

    /// Average pooling, counting padding in the divisor (PyTorch's default).
    public func avgPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) -> Tensor {
        avgPooled(Tensor.fixedGeometry(self, kernel: kernel, stride: stride, padding: padding, op: "avg_pool2d"))
    }

    /// Average pooling to a fixed output size, whatever the input size.
    public func adaptiveAvgPool2d(_ outputSize: (Int, Int)) -> Tensor {
        avgPooled(Tensor.adaptiveGeometry(self, outputSize: outputSize, op: "adaptive_avg_pool2d"))
    }

    /// Max pooling to a fixed output size, whatever the input size.
    public func adaptiveMaxPool2d(_ outputSize: (Int, Int)) -> Tensor {
        maxPooled(Tensor.adaptiveGeometry(self, outputSize: outputSize, op: "adaptive_max_pool2d"))
    }
}
