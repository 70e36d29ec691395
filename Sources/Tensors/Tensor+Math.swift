// Element-wise math functions: exp, log, sqrt, abs, sigmoid, relu, tanh, clamp, pow,
// maximum/minimum and where.

extension Tensor {
    /// e^x element-wise.
    public func exp() -> Tensor { mapped(ExpOp()).recorded(.exp, self) }
    /// Natural logarithm element-wise (log 0 = -inf, log of a negative = NaN).
    public func log() -> Tensor { mapped(LogOp()).recorded(.log, self) }
    /// Square root element-wise.
    public func sqrt() -> Tensor { mapped(SqrtOp()).recorded(.sqrt, self) }
    /// Absolute value element-wise.
    public func abs() -> Tensor { mapped(AbsOp()).recorded(.abs, self) }
    /// x² element-wise.
    public func square() -> Tensor { mapped(SquareOp()).recorded(.square, self) }
    /// -1, 0 or 1 by the sign of each element (no gradient flows through it).
    public func sign() -> Tensor { mapped(SignOp()) }
    /// The logistic function 1 / (1 + e^-x) element-wise.
    public func sigmoid() -> Tensor { mapped(SigmoidOp()).recorded(.sigmoid, self) }
    /// max(x, 0) element-wise.
    public func relu() -> Tensor { mapped(ReluOp()).recorded(.relu, self) }
    /// Hyperbolic tangent element-wise.
    public func tanh() -> Tensor { mapped(TanhOp()).recorded(.tanh, self) }

    /// Each element clamped into `min...max` (either bound may be omitted; NaN stays NaN).
    public func clamp(min lower: Float = -.infinity, max upper: Float = .infinity) -> Tensor {
        precondition(!(lower > upper), "clamp: min \(lower) is greater than max \(upper)")
        return mapped(ClampOp(lower: lower, upper: upper)).recorded(.clamp(lower: lower, upper: upper), self)
    }

    /// Clamps in place (PyTorch's `clamp_`).
    public mutating func clampInPlace(min lower: Float = -.infinity, max upper: Float = .infinity) {
        precondition(!(lower > upper), "clamp_: min \(lower) is greater than max \(upper)")
        mapInPlace(ClampOp(lower: lower, upper: upper), name: "clamp_")
    }

    /// Each element raised to `exponent` (common exponents take exact shortcuts).
    public func pow(_ exponent: Float) -> Tensor {
        switch exponent {
        case 1: return self
        case 2: return square()
        case 0.5: return sqrt()
        default:
            return mapped(RightScalarOp(op: PowOp(), scalar: Vec(repeating: exponent))).recorded(.powScalar(exponent: exponent), self)
        }
    }

    /// Each element raised to the matching element of `exponent`, with broadcasting.
    public func pow(_ exponent: Tensor) -> Tensor { Tensor.zipped(self, exponent, PowOp(), name: "pow", recording: .pow) }

    /// Element-wise maximum of two tensors, with broadcasting (torch.maximum).
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor { zipped(a, b, MaxOp(), name: "maximum", recording: .maximum) }
    /// Element-wise minimum of two tensors, with broadcasting (torch.minimum).
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor { zipped(a, b, MinOp(), name: "minimum", recording: .minimum) }
    /// Element-wise maximum with a scalar.
    public static func maximum(_ a: Tensor, _ b: Float) -> Tensor {
        a.mapped(RightScalarOp(op: MaxOp(), scalar: Vec(repeating: b))).recorded(.maximumScalar(b), a)
    }
    /// Element-wise minimum with a scalar.
    public static func minimum(_ a: Tensor, _ b: Float) -> Tensor {
        a.mapped(RightScalarOp(op: MinOp(), scalar: Vec(repeating: b))).recorded(.minimumScalar(b), a)
    }

    /// Picks `a` where `condition` is non-zero and `b` elsewhere, all three broadcast together
    /// (torch.where):
    ///
    ///     Tensor.where(targets .== 1, 1 - predictions, predictions)
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        guard let ab = broadcastShape(a.shape, b.shape) else {
            fatalError(shapeMismatchMessage(op: "where", a.shape, b.shape))
        }
        guard let shape = broadcastShape(condition.shape, ab) else {
            fatalError(shapeMismatchMessage(op: "where", condition.shape, ab, reason: "(condition and values) cannot be broadcast together"))
        }
        let c = condition.expand(to: shape), x = a.expand(to: shape), y = b.expand(to: shape)
        let result = Tensor(uninitializedShape: shape)
        Kernels.select(c.pointer, x.pointer, y.pointer, result.pointer, count: result.count)
        return result.recorded(.select, condition, a, b)
    }

    /// `where` with a scalar for the values where `condition` is zero.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Float) -> Tensor {
        `where`(condition, a, Tensor(b))
    }
    /// `where` with a scalar for the values where `condition` is non-zero.
    public static func `where`(_ condition: Tensor, _ a: Float, _ b: Tensor) -> Tensor {
        `where`(condition, Tensor(a), b)
    }
    /// `where` with scalars on both sides.
    public static func `where`(_ condition: Tensor, _ a: Float, _ b: Float) -> Tensor {
        `where`(condition, Tensor(a), Tensor(b))
    }
}

extension Kernels {
    /// `out[i] = condition[i] != 0 ? a[i] : b[i]`.
    static func select(
        _ condition: UnsafePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
        _ out: UnsafeMutablePointer<Float>, count: Int
    ) {
        var i = 0
        while i + 16 <= count {
            store(load(b, i).replacing(with: load(a, i), where: load(condition, i) .!= 0), out, i)
            i += 16
        }
        while i < count { out[i] = condition[i] != 0 ? a[i] : b[i]; i += 1 }
    }
}
