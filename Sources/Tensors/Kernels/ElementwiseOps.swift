// The element-wise ops themselves, one small struct each (see Elementwise.swift).

struct AddOp: BinaryOp { @inline(__always) func apply(_ a: Vec, _ b: Vec) -> Vec { a + b } }
struct SubOp: BinaryOp { @inline(__always) func apply(_ a: Vec, _ b: Vec) -> Vec { a - b } }
struct MulOp: BinaryOp { @inline(__always) func apply(_ a: Vec, _ b: Vec) -> Vec { a * b } }
struct DivOp: BinaryOp { @inline(__always) func apply(_ a: Vec, _ b: Vec) -> Vec { a / b } }

/// Element-wise maximum; NaN in either operand gives NaN (torch.maximum).
struct MaxOp: BinaryOp {
    @inline(__always) func apply(_ a: Vec, _ b: Vec) -> Vec {
        a.replacing(with: b, where: (a .< b) .| b.isNaNMask)
    }
}

/// Element-wise minimum; NaN in either operand gives NaN (torch.minimum).
struct MinOp: BinaryOp {
    @inline(__always) func apply(_ a: Vec, _ b: Vec) -> Vec {
        a.replacing(with: b, where: (a .> b) .| b.isNaNMask)
    }
}

/// `a` raised to `b`, with C's `powf` special cases: a negative base needs an integral
/// exponent (odd ones keep the sign), `x^0 = 1` even for NaN, `0^negative = inf`.
struct PowOp: BinaryOp {
    @inline(__always) func apply(_ a: Vec, _ b: Vec) -> Vec {
        let magnitude = (b * a.magnitudeVector().log()).exp()
        let integral = b.truncated() .== b
        let half = b * 0.5
        let odd = integral .& (half.truncated() .!= half)
        var r = magnitude.replacing(with: -magnitude, where: (a .< 0) .& odd)
        r = r.replacing(with: .nan, where: (a .< 0) .& .!integral)
        r = r.replacing(with: 1, where: (b .== 0) .| (a .== 1))
        return r
    }
}

/// Comparisons give 1 where true and 0 where false.
struct CompareOp: BinaryOp {
    enum Kind { case equal, notEqual, less, lessEqual, greater, greaterEqual }
    let kind: Kind
    @inline(__always) func apply(_ a: Vec, _ b: Vec) -> Vec {
        let mask: VecMask
        switch kind {
        case .equal: mask = a .== b
        case .notEqual: mask = a .!= b
        case .less: mask = a .< b
        case .lessEqual: mask = a .<= b
        case .greater: mask = a .> b
        case .greaterEqual: mask = a .>= b
        }
        return Vec().replacing(with: 1, where: mask)
    }
}

struct NegOp: UnaryOp { @inline(__always) func apply(_ x: Vec) -> Vec { -x } }
struct ExpOp: UnaryOp { @inline(__always) func apply(_ x: Vec) -> Vec { x.exp() } }
struct LogOp: UnaryOp { @inline(__always) func apply(_ x: Vec) -> Vec { x.log() } }
struct SqrtOp: UnaryOp { @inline(__always) func apply(_ x: Vec) -> Vec { x.squareRoot() } }
struct AbsOp: UnaryOp { @inline(__always) func apply(_ x: Vec) -> Vec { x.magnitudeVector() } }
struct SigmoidOp: UnaryOp { @inline(__always) func apply(_ x: Vec) -> Vec { x.sigmoid() } }
struct TanhOp: UnaryOp { @inline(__always) func apply(_ x: Vec) -> Vec { x.tanh() } }
struct SquareOp: UnaryOp { @inline(__always) func apply(_ x: Vec) -> Vec { x * x } }
/// max(x, 0), keeping NaN.
struct ReluOp: UnaryOp { @inline(__always) func apply(_ x: Vec) -> Vec { x.replacing(with: 0, where: x .< 0) } }
/// Sign: -1, 0 or 1 (NaN stays NaN).
struct SignOp: UnaryOp {
    @inline(__always) func apply(_ x: Vec) -> Vec {
        Vec().replacing(with: 1, where: x .> 0).replacing(with: -1, where: x .< 0).replacing(with: x, where: x.isNaNMask)
    }
}
/// Clamps into `lower...upper`, keeping NaN.
struct ClampOp: UnaryOp {
    let lower: Float, upper: Float
    @inline(__always) func apply(_ x: Vec) -> Vec {
        x.replacing(with: Vec(repeating: lower), where: x .< lower).replacing(with: Vec(repeating: upper), where: x .> upper)
    }
}
/// A binary op with a fixed right operand (tensor-scalar arithmetic).
struct RightScalarOp<Op: BinaryOp>: UnaryOp {
    let op: Op, scalar: Vec
    @inline(__always) func apply(_ x: Vec) -> Vec { op.apply(x, scalar) }
}
/// A binary op with a fixed left operand (scalar-tensor arithmetic).
struct LeftScalarOp<Op: BinaryOp>: UnaryOp {
    let op: Op, scalar: Vec
    @inline(__always) func apply(_ x: Vec) -> Vec { op.apply(scalar, x) }
}

// MARK: - Derivative helpers for the backward rules (forward math of the gradients)

/// `grad` where `x > 0`, else 0.
struct ReluGradOp: BinaryOp {
    @inline(__always) func apply(_ grad: Vec, _ x: Vec) -> Vec { Vec().replacing(with: grad, where: x .> 0) }
}
/// `grad * y * (1 - y)` for the sigmoid's output y.
struct SigmoidGradOp: BinaryOp {
    @inline(__always) func apply(_ grad: Vec, _ y: Vec) -> Vec { grad * y * (1 - y) }
}
/// `grad * (1 - y²)` for tanh's output y.
struct TanhGradOp: BinaryOp {
    @inline(__always) func apply(_ grad: Vec, _ y: Vec) -> Vec { grad * (1 - y * y) }
}
/// `grad` where `lower <= x <= upper`, else 0.
struct ClampGradOp: BinaryOp {
    let lower: Float, upper: Float
    @inline(__always) func apply(_ grad: Vec, _ x: Vec) -> Vec {
        Vec().replacing(with: grad, where: (x .>= lower) .& (x .<= upper))
    }
}
/// The share of a maximum's (or minimum's) gradient that goes to its first operand:
/// 1 where it wins, 1/2 on a tie, 0 where it loses.
struct WinnerShareOp: BinaryOp {
    let largest: Bool
    @inline(__always) func apply(_ a: Vec, _ b: Vec) -> Vec {
        let wins = largest ? a .> b : a .< b
        return Vec().replacing(with: 0.5, where: a .== b).replacing(with: 1, where: wins)
    }
}
