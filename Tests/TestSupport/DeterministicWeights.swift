import Tensors

/// The deterministic weights of `Tests/Fixtures/make_torchvision_reference.py`, reproduced bit
/// for bit: element `i` of the tensor named `name` is
/// `c = ((splitmix64(fnv1a64(name) + i) >> 41) - 2^22) / 2^22`, scaled by the tensor's kind.
public enum DeterministicWeights {
    static func fnv1a(_ name: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h
    }

    /// The values `c` in [-1, 1) of the tensor named `name`.
    public static func uniform(_ name: String, count: Int) -> [Double] {
        let base = fnv1a(name)
        return (0..<count).map { i in
            var z = base &+ UInt64(i) &+ 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return (Double(z >> 41) - 4_194_304) / 4_194_304
        }
    }

    /// The tensor the fixture script gives `name` (batch-norm statistics, weights and biases,
    /// convolution and linear weights each scaled as there).
    public static func tensor(_ name: String, shape: [Int]) -> Tensor {
        let c = uniform(name, count: shape.reduce(1, *))
        let values: [Double]
        if name.hasSuffix("running_var") {
            values = c.map { 1 + 0.25 * ($0 + 1) }
        } else if name.hasSuffix("running_mean") {
            values = c.map { 0.1 * $0 }
        } else if name == "fc.bias" {
            values = c.map { 0.01 * $0 }
        } else if shape.count == 1 && name.hasSuffix("weight") {
            values = c.map { 1 + 0.1 * $0 }
        } else if shape.count == 1 {
            values = c.map { 0.1 * $0 }
        } else {
            let scale = (3.0 / Double(shape.dropFirst().reduce(1, *))).squareRoot()
            values = c.map { $0 * scale }
        }
        return Tensor(shape: shape, scalars: values.map { Float($0) })
    }
}
