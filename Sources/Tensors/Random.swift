import Foundation

/// A seeded pseudo-random generator (xoshiro256**, seeded through SplitMix64).
///
/// The same seed gives the same sequence on every run and every machine. FastSwift keeps one
/// global generator (`Random.global`, reseeded by `Random.seed(_:)` or `seed(_:)`) that every
/// random op uses by default; pass your own to any of them to keep a stream separate.
///
///     let g = RandomGenerator(seed: 7)
///     let w = Tensor.randn([784, 1], generator: g)
///
/// A generator is a reference: ops that draw from it advance it. One generator must not be
/// used from two threads at once (the global one is locked for you).
public final class RandomGenerator: @unchecked Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    /// A second normal sample left over from the last Box-Muller pair.
    private var spareNormal: Float?

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) {
        var sm = seed
        func splitMix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// The generator's whole state, to save and restore (a resumed run draws what the
    /// interrupted one would have): the four state words, then 1 and a spare normal sample's
    /// bits, or 0 and 0. Setting a malformed state (not six words) leaves the generator as it is.
    public var state: [UInt64] {
        get { [s0, s1, s2, s3, spareNormal == nil ? 0 : 1, UInt64(spareNormal?.bitPattern ?? 0)] }
        set {
            guard newValue.count == 6 else { return }
            (s0, s1, s2, s3) = (newValue[0], newValue[1], newValue[2], newValue[3])
            spareNormal = newValue[4] == 0 ? nil : Float(bitPattern: UInt32(truncatingIfNeeded: newValue[5]))
        }
    }

    /// The next 64 random bits.
    @inline(__always)
    public func next() -> UInt64 {
        let result = rotateLeft(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = rotateLeft(s3, 45)
        return result
    }

    @inline(__always)
    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A Float uniformly distributed in `0 ..< 1` (24 random bits).
    @inline(__always)
    public func nextUniform() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A standard normal Float (Box-Muller, computed in Double for accuracy in the tails).
    public func nextNormal() -> Float {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        // u1 in (0, 1] so that log(u1) is finite.
        let u1 = (Double(next() >> 11) + 1) * (1.0 / 9_007_199_254_740_992.0)
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        let radius = (-2 * log(u1)).squareRoot()
        let angle = 2 * Double.pi * u2
        spareNormal = Float(radius * sin(angle))
        return Float(radius * cos(angle))
    }

    /// An integer uniformly distributed in `0 ..< upperBound` (unbiased, Lemire's method).
    public func nextInt(below upperBound: Int) -> Int {
        precondition(upperBound > 0, "nextInt(below:): upper bound \(upperBound) must be positive")
        let bound = UInt64(upperBound)
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold { product = next().multipliedFullWidth(by: bound) }
        }
        return Int(product.high)
    }

    /// A random permutation of `0 ..< n` (Fisher-Yates).
    public func permutation(_ n: Int) -> [Int] {
        var result = Array(0..<n)
        if n < 2 { return result }
        for i in stride(from: n - 1, to: 0, by: -1) {
            result.swapAt(i, nextInt(below: i + 1))
        }
        return result
    }
}

/// The global random state.
public enum Random {
    private static let shared = LockedValue(RandomGenerator(seed: 0x5EED))

    /// The generator random ops use when none is passed. Draw from it on one thread at a
    /// time; the ops themselves lock it through `withGlobal`.
    public static var global: RandomGenerator { shared.value }

    /// Runs `body` with the global generator, holding its lock.
    public static func withGlobal<R>(_ body: (RandomGenerator) throws -> R) rethrows -> R {
        try shared.withLock { try body($0) }
    }

    /// Runs `body` with `generator`, or with the global generator (locked) when it is nil.
    static func using<R>(_ generator: RandomGenerator?, _ body: (RandomGenerator) throws -> R) rethrows -> R {
        if let generator { return try body(generator) }
        return try withGlobal(body)
    }

    /// Reseeds the global generator: everything random that follows repeats exactly.
    public static func seed(_ seed: UInt64) { shared.value = RandomGenerator(seed: seed) }
}

/// Reseeds FastSwift's global generator (fastai's `set_seed`), so that initialisation,
/// shuffling and dropout repeat exactly from here on.
public func seed(_ value: UInt64) { Random.seed(value) }
