// Vectorised transcendental functions on 16 lanes (Cephes-style polynomials, float accuracy
// within a few ulp). Swift's SIMD types have no exp or log of their own, and calling libm per
// lane would be ten times slower. Special values follow IEEE/libm: exp(-inf) = 0,
// log(0) = -inf, log(negative) = NaN, NaN in gives NaN out.

typealias Vec = SIMD16<Float>
typealias VecMask = SIMDMask<SIMD16<Int32>>

extension SIMD16 where Scalar == Float {
    /// Rounds each lane to the nearest integer (ties to even) for |x| < 2^22, with the
    /// 1.5·2^23 trick: plain adds, which vectorise, where `rounded(_:)` goes lane by lane.
    @inline(__always)
    func roundedToNearest() -> Vec {
        let magic = Vec(repeating: 12_582_912)
        return (self + magic) - magic
    }

    /// Rounds each lane toward zero (exact for every Float: beyond 2^23 all are integers).
    @inline(__always)
    func truncated() -> Vec {
        let r = self.roundedToNearest()
        // Nearest may round away from zero by one; step back toward zero where it did.
        let away = (r.magnitudeVector() .> self.magnitudeVector())
        let stepped = r - Vec().replacing(with: 1, where: r .> 0).replacing(with: -1, where: r .< 0)
        let result = r.replacing(with: stepped, where: away)
        return result.replacing(with: self, where: self.magnitudeVector() .>= 8_388_608)
    }

    /// `2^n` for integral `n` in -150...128 (given as Floats), as two factors whose product is
    /// exact, so that the result may be subnormal or overflow to infinity.
    @inline(__always)
    static func exp2Integral(_ n: Vec) -> (Vec, Vec) {
        // n + 1.5·2^23 holds n in its low mantissa bits: an integer conversion made of adds.
        let ni = unsafeBitCast(n + 12_582_912, to: SIMD16<Int32>.self) &- 0x4B40_0000
        let n1 = ni &>> 1, n2 = ni &- n1
        let p1 = unsafeBitCast((n1 &+ 127) &<< 23, to: Vec.self)
        let p2 = unsafeBitCast((n2 &+ 127) &<< 23, to: Vec.self)
        return (p1, p2)
    }

    /// e^x per lane.
    @inline(__always)
    func exp() -> Vec {
        // Clamp by hand: `clamped(lowerBound:upperBound:)` checks its bounds lane by lane.
        let x = self.replacing(with: -104, where: self .< -104).replacing(with: 89, where: self .> 89)
        let fx = (x * 1.442_695_04).roundedToNearest()
        var r = x - fx * 0.693_359_375
        r = r - fx * -2.121_944_40e-4
        var y = Vec(repeating: 1.987_569_150_0e-4)
        y = Vec(repeating: 1.398_199_950_7e-3).plusProduct(y, r)
        y = Vec(repeating: 8.333_451_907_3e-3).plusProduct(y, r)
        y = Vec(repeating: 4.166_579_589_4e-2).plusProduct(y, r)
        y = Vec(repeating: 1.666_666_545_9e-1).plusProduct(y, r)
        y = Vec(repeating: 5.000_000_120_1e-1).plusProduct(y, r)
        y = y * (r * r) + r + 1
        let (p1, p2) = Vec.exp2Integral(fx)
        let result = y * p1 * p2
        return result.replacing(with: self, where: self .!= self)
    }

    /// Natural logarithm per lane.
    @inline(__always)
    func log() -> Vec {
        // Scale subnormals into the normal range first.
        let tiny = self .< Vec(repeating: Float.leastNormalMagnitude)
        let scaled = self.replacing(with: self * 8_388_608, where: tiny)
        let bits = unsafeBitCast(scaled, to: SIMD16<Int32>.self)
        var e = Vec(((bits &>> 23) & 0xFF) &- 126)
        e = e.replacing(with: e - 23, where: tiny)
        var m = unsafeBitCast((bits & Int32(bitPattern: 0x807F_FFFF)) | 0x3F00_0000, to: Vec.self)  // in [0.5, 1)
        let small = m .< Vec(repeating: 0.707_106_781_186_547_524)
        e = e.replacing(with: e - 1, where: small)
        m = m.replacing(with: m + m, where: small) - 1
        let z = m * m
        var y = Vec(repeating: 7.037_683_629_2e-2)
        y = Vec(repeating: -1.151_461_031_0e-1).plusProduct(y, m)
        y = Vec(repeating: 1.167_699_874_0e-1).plusProduct(y, m)
        y = Vec(repeating: -1.242_014_084_6e-1).plusProduct(y, m)
        y = Vec(repeating: 1.424_932_278_7e-1).plusProduct(y, m)
        y = Vec(repeating: -1.666_805_766_5e-1).plusProduct(y, m)
        y = Vec(repeating: 2.000_071_476_5e-1).plusProduct(y, m)
        y = Vec(repeating: -2.499_999_399_3e-1).plusProduct(y, m)
        y = Vec(repeating: 3.333_333_117_4e-1).plusProduct(y, m)
        y = y * m * z
        y = y + e * -2.121_944_40e-4
        y = y - 0.5 * z
        var result = m + y + e * 0.693_359_375
        result = result.replacing(with: -Float.infinity, where: self .== 0)
        result = result.replacing(with: Float.infinity, where: self .== Float.infinity)
        result = result.replacing(with: Float.nan, where: (self .< 0) .| (self .!= self))
        return result
    }

    /// Hyperbolic tangent per lane.
    @inline(__always)
    func tanh() -> Vec {
        let ax = self.magnitudeVector()
        // Small |x|: odd polynomial, accurate where 1 - 2/(e^2x + 1) would cancel.
        let z = self * self
        var p = Vec(repeating: -5.704_988_727_45e-3)
        p = Vec(repeating: 2.063_908_879_54e-2).plusProduct(p, z)
        p = Vec(repeating: -5.373_971_555_31e-2).plusProduct(p, z)
        p = Vec(repeating: 1.333_144_220_36e-1).plusProduct(p, z)
        p = Vec(repeating: -3.333_328_194_22e-1).plusProduct(p, z)
        let small = self + self * z * p
        let large = 1 - 2 / ((ax + ax).exp() + 1)
        let signed = large.replacing(with: -large, where: self .< 0)
        return signed.replacing(with: small, where: ax .< 0.625)
    }

    /// The logistic function 1 / (1 + e^-x) per lane.
    @inline(__always)
    func sigmoid() -> Vec {
        1 / (1 + (-self).exp())
    }

    /// |x| per lane (clears the sign bit, so NaN stays NaN).
    @inline(__always)
    func magnitudeVector() -> Vec {
        unsafeBitCast(unsafeBitCast(self, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: Vec.self)
    }

    /// True in lanes holding NaN.
    @inline(__always)
    var isNaNMask: VecMask { self .!= self }
}
