import Tensors

/// Modules applied one after the other: the output of each is the input of the next.
///
///     let simpleNet = Sequential(Linear(28 * 28, 30), ReLU(), Linear(30, 1))
public final class Sequential: Module {
    /// The modules, in order.
    public let layers: [Module]

    /// A sequence of the given modules.
    public init(_ layers: Module...) { self.layers = layers }

    /// A sequence of the modules in an array.
    public init(_ layers: [Module]) { self.layers = layers }

    public override func outputShape(for input: [Int]) throws -> [Int]? {
        var shape: [Int]? = input
        for (i, layer) in layers.enumerated() { shape = try LayerShapeError.checking(String(i), layer, shape) }
        return shape
    }

    public override func forward(_ input: Tensor) -> Tensor {
        // A batch norm followed by a ReLU runs as one fused pass forward and backward (the
        // same values; `BatchNorm.followed(by:_:)`).
        var x = input, i = 0
        while i < layers.count {
            if let norm = layers[i] as? BatchNorm, i + 1 < layers.count, let relu = layers[i + 1] as? ReLU {
                x = norm.followed(by: relu, x)
                i += 2
            } else {
                x = layers[i](x)
                i += 1
            }
        }
        return x
    }

    public override var children: [(name: String, module: Module)] {
        layers.enumerated().map { ("\($0.offset)", $0.element) }
    }

    /// The `i`th module.
    public subscript(_ i: Int) -> Module { layers[i] }
}
