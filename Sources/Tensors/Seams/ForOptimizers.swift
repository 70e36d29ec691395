// What Tensors offers the Optimizers layer, and only it: pointers into parameters, gradients
// and optimizer state for an in-place update, and the fused update kernels, run over every
// parameter in one parallel pass.
//
// Client: Optimizers.

extension Tensor {
    /// A parameter's elements for an in-place update by an optimizer: the change is seen by
    /// every copy of the parameter (the model's included). Must be called inside `noGrad { }`;
    /// the pointer stays valid while the parameter's storage lives (the optimizer holds it).
    package mutating func elementsForUpdate() -> UnsafeMutablePointer<Float> {
        prepareInPlace("optimizer step")
        makeUnique()
        return pointer
    }

    /// A read-only pointer to the elements, for kernels in other layers; valid while `self` lives.
    package var elements: UnsafePointer<Float> { UnsafePointer(pointer) }

    /// A writable pointer to the elements of a tensor this code owns alone (optimizer state).
    package mutating func mutableElements() -> UnsafeMutablePointer<Float> {
        makeUnique()
        return pointer
    }
}

extension Kernels {
    /// Calls `body(segment, range)` for pieces of buffers of sizes `counts`, split over the
    /// threads as if they were one buffer (see `forEachPiece` in OptimizerKernels.swift).
    package static func forEachParameterPiece(of counts: [Int], _ body: (Int, Range<Int>) -> Void) {
        forEachPiece(of: counts, body)
    }

    /// One SGD update of `count` elements (PyTorch's rule, or fastai's with `decoupled` weight
    /// decay; see `sgdUpdate`).
    package static func sgdStep(
        parameter p: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
        velocity: UnsafeMutablePointer<Float>?, count: Int, lr: Float, momentum: Float,
        dampening: Float, weightDecay: Float, decoupled: Bool, nesterov: Bool, firstStep: Bool
    ) {
        sgdUpdate(
            parameter: p, gradient: gradient, velocity: velocity, count: count, lr: lr, momentum: momentum, dampening: dampening,
            weightDecay: weightDecay, decoupled: decoupled, nesterov: nesterov, firstStep: firstStep)
    }

    /// One Adam update of `count` elements at step `t` (fastai's form; see `adamUpdate`).
    package static func adamStep(
        parameter p: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
        average m: UnsafeMutablePointer<Float>, squareAverage v: UnsafeMutablePointer<Float>,
        count: Int, lr: Float, beta1: Float, beta2: Float, eps: Float,
        weightDecay: Float, decoupled: Bool, step t: Int
    ) {
        adamUpdate(
            parameter: p, gradient: gradient, average: m, squareAverage: v, count: count, lr: lr, beta1: beta1, beta2: beta2,
            eps: eps, weightDecay: weightDecay, decoupled: decoupled, step: t)
    }
}
