// Arithmetic with NumPy/PyTorch broadcasting: + - * / between tensors and with scalars on
// either side, unary minus, comparisons that give 0/1 tensors, and the in-place forms.

extension Tensor {
    /// Applies a unary element-wise op into a new tensor of the same shape.
    func mapped<Op: UnaryOp>(_ op: Op) -> Tensor {
        let result = Tensor(uninitializedShape: shape)
        Kernels.map(op, pointer, result.pointer, count: count)
        return result
    }

    /// Applies a unary element-wise op in place.
    mutating func mapInPlace<Op: UnaryOp>(_ op: Op, name: String) {
        prepareInPlace(name)
        makeUnique()
        Kernels.map(op, pointer, pointer, count: count)
    }

    /// `op(a, b)` element-wise with broadcasting; traps naming `name` and both shapes when the
    /// shapes cannot broadcast.
    static func zipped<Op: BinaryOp>(_ a: Tensor, _ b: Tensor, _ op: Op, name: String) -> Tensor {
        computeZipped(a, b, op, name: name)
    }

    /// `zipped`, recorded for autograd as `operation`.
    static func zipped<Op: BinaryOp>(_ a: Tensor, _ b: Tensor, _ op: Op, name: String, recording operation: Operation) -> Tensor {
        computeZipped(a, b, op, name: name).recorded(operation, a, b)
    }

    private static func computeZipped<Op: BinaryOp>(_ a: Tensor, _ b: Tensor, _ op: Op, name: String) -> Tensor {
        if a.shape == b.shape {
            let result = Tensor(uninitializedShape: a.shape)
            Kernels.zip(op, a.pointer, b.pointer, result.pointer, count: a.count)
            return result
        }
        guard let shape = broadcastShape(a.shape, b.shape) else {
            fatalError(shapeMismatchMessage(op: name, a.shape, b.shape))
        }
        if b.count == 1 && shape == a.shape { return a.mapped(RightScalarOp(op: op, scalar: Vec(repeating: b.pointer[0]))) }
        if a.count == 1 && shape == b.shape { return b.mapped(LeftScalarOp(op: op, scalar: Vec(repeating: a.pointer[0]))) }
        let result = Tensor(uninitializedShape: shape)
        Kernels.zipBroadcast(op, a.pointer, b.pointer, result.pointer, plan: BroadcastPlan(output: shape, a: a.shape, b: b.shape))
        return result
    }

    /// `self = op(self, other)` in place; `other` must broadcast to `self`'s shape.
    mutating func zipInPlace<Op: BinaryOp>(_ other: Tensor, _ op: Op, name: String) {
        guard let shape = broadcastShape(self.shape, other.shape), shape == self.shape else {
            fatalError(
                shapeMismatchMessage(
                    op: name, self.shape, other.shape,
                    reason: "do not fit: the right side must broadcast to the left side's shape"))
        }
        prepareInPlace(name)
        makeUnique()
        if other.count == 1 {
            Kernels.map(RightScalarOp(op: op, scalar: Vec(repeating: other.pointer[0])), pointer, pointer, count: count)
        } else if other.shape == shape {
            Kernels.zip(op, pointer, other.pointer, pointer, count: count)
        } else {
            Kernels.zipBroadcast(op, pointer, other.pointer, pointer, plan: BroadcastPlan(output: shape, a: shape, b: other.shape))
        }
    }

    /// Element-wise sum with broadcasting.
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor { zipped(lhs, rhs, AddOp(), name: "add", recording: .add) }
    /// Element-wise difference with broadcasting.
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor { zipped(lhs, rhs, SubOp(), name: "sub", recording: .sub) }
    /// Element-wise product with broadcasting.
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor { zipped(lhs, rhs, MulOp(), name: "mul", recording: .mul) }
    /// Element-wise quotient with broadcasting.
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor { zipped(lhs, rhs, DivOp(), name: "div", recording: .div) }

    /// `x` with a scalar on one side, recorded as `scale * x + shift`.
    private static func affine<Op: UnaryOp>(_ x: Tensor, _ op: Op, scale: Float) -> Tensor {
        x.mapped(op).recorded(.scaleShift(scale: scale), x)
    }

    public static func + (lhs: Tensor, rhs: Float) -> Tensor { affine(lhs, RightScalarOp(op: AddOp(), scalar: Vec(repeating: rhs)), scale: 1) }
    public static func - (lhs: Tensor, rhs: Float) -> Tensor { affine(lhs, RightScalarOp(op: SubOp(), scalar: Vec(repeating: rhs)), scale: 1) }
    public static func * (lhs: Tensor, rhs: Float) -> Tensor { affine(lhs, RightScalarOp(op: MulOp(), scalar: Vec(repeating: rhs)), scale: rhs) }
    public static func / (lhs: Tensor, rhs: Float) -> Tensor { affine(lhs, RightScalarOp(op: DivOp(), scalar: Vec(repeating: rhs)), scale: 1 / rhs) }
    public static func + (lhs: Float, rhs: Tensor) -> Tensor { affine(rhs, LeftScalarOp(op: AddOp(), scalar: Vec(repeating: lhs)), scale: 1) }
    public static func - (lhs: Float, rhs: Tensor) -> Tensor { affine(rhs, LeftScalarOp(op: SubOp(), scalar: Vec(repeating: lhs)), scale: -1) }
    public static func * (lhs: Float, rhs: Tensor) -> Tensor { affine(rhs, LeftScalarOp(op: MulOp(), scalar: Vec(repeating: lhs)), scale: lhs) }
    public static func / (lhs: Float, rhs: Tensor) -> Tensor {
        rhs.mapped(LeftScalarOp(op: DivOp(), scalar: Vec(repeating: lhs))).recorded(.scalarDivide(numerator: lhs), rhs)
    }

    /// Element-wise negation.
    public static prefix func - (x: Tensor) -> Tensor { x.mapped(NegOp()).recorded(.neg, x) }

    /// Adds `rhs` (broadcast to `lhs`'s shape) in place.
    public static func += (lhs: inout Tensor, rhs: Tensor) { lhs.zipInPlace(rhs, AddOp(), name: "add_") }
    /// Subtracts `rhs` (broadcast to `lhs`'s shape) in place: the seeds' `w -= lr * w.grad`.
    public static func -= (lhs: inout Tensor, rhs: Tensor) { lhs.zipInPlace(rhs, SubOp(), name: "sub_") }
    /// Multiplies by `rhs` (broadcast to `lhs`'s shape) in place.
    public static func *= (lhs: inout Tensor, rhs: Tensor) { lhs.zipInPlace(rhs, MulOp(), name: "mul_") }
    /// Divides by `rhs` (broadcast to `lhs`'s shape) in place.
    public static func /= (lhs: inout Tensor, rhs: Tensor) { lhs.zipInPlace(rhs, DivOp(), name: "div_") }
    public static func += (lhs: inout Tensor, rhs: Float) { lhs.mapInPlace(RightScalarOp(op: AddOp(), scalar: Vec(repeating: rhs)), name: "add_") }
    public static func -= (lhs: inout Tensor, rhs: Float) { lhs.mapInPlace(RightScalarOp(op: SubOp(), scalar: Vec(repeating: rhs)), name: "sub_") }
    public static func *= (lhs: inout Tensor, rhs: Float) { lhs.mapInPlace(RightScalarOp(op: MulOp(), scalar: Vec(repeating: rhs)), name: "mul_") }
    public static func /= (lhs: inout Tensor, rhs: Float) { lhs.mapInPlace(RightScalarOp(op: DivOp(), scalar: Vec(repeating: rhs)), name: "div_") }
}

// MARK: - Comparisons (1 where true, 0 where false), with broadcasting

// The operators `.==`, `.<`, ... are the standard library's (declared for SIMD types).

extension Tensor {
    private static func compare(_ a: Tensor, _ b: Tensor, _ kind: CompareOp.Kind, _ name: String) -> Tensor {
        zipped(a, b, CompareOp(kind: kind), name: name)
    }
    private static func compare(_ a: Tensor, _ b: Float, _ kind: CompareOp.Kind) -> Tensor {
        a.mapped(RightScalarOp(op: CompareOp(kind: kind), scalar: Vec(repeating: b)))
    }

    /// 1 where the elements are equal, else 0 (PyTorch's `a == b`).
    public static func .== (lhs: Tensor, rhs: Tensor) -> Tensor { compare(lhs, rhs, .equal, "eq") }
    /// 1 where the elements differ, else 0.
    public static func .!= (lhs: Tensor, rhs: Tensor) -> Tensor { compare(lhs, rhs, .notEqual, "ne") }
    /// 1 where `lhs < rhs`, else 0.
    public static func .< (lhs: Tensor, rhs: Tensor) -> Tensor { compare(lhs, rhs, .less, "lt") }
    /// 1 where `lhs <= rhs`, else 0.
    public static func .<= (lhs: Tensor, rhs: Tensor) -> Tensor { compare(lhs, rhs, .lessEqual, "le") }
    /// 1 where `lhs > rhs`, else 0.
    public static func .> (lhs: Tensor, rhs: Tensor) -> Tensor { compare(lhs, rhs, .greater, "gt") }
    /// 1 where `lhs >= rhs`, else 0.
    public static func .>= (lhs: Tensor, rhs: Tensor) -> Tensor { compare(lhs, rhs, .greaterEqual, "ge") }

    public static func .== (lhs: Tensor, rhs: Float) -> Tensor { compare(lhs, rhs, .equal) }
    public static func .!= (lhs: Tensor, rhs: Float) -> Tensor { compare(lhs, rhs, .notEqual) }
    public static func .< (lhs: Tensor, rhs: Float) -> Tensor { compare(lhs, rhs, .less) }
    public static func .<= (lhs: Tensor, rhs: Float) -> Tensor { compare(lhs, rhs, .lessEqual) }
    public static func .> (lhs: Tensor, rhs: Float) -> Tensor { compare(lhs, rhs, .greater) }
    public static func .>= (lhs: Tensor, rhs: Float) -> Tensor { compare(lhs, rhs, .greaterEqual) }
}
