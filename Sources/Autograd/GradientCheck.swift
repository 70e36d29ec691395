import Tensors

/// What `checkGradients` found: the largest disagreement between autograd and finite differences.
public struct GradientCheckResult: CustomStringConvertible, Sendable {
    /// True when every element agreed within the tolerances.
    public let passed: Bool
    /// The worst element: which input, which flat index, autograd's value and the numeric one.
    public let worst: (input: Int, index: Int, analytic: Float, numeric: Float)?

    public var description: String {
        guard let w = worst else { return "gradient check: no elements" }
        return "gradient check \(passed ? "passed" : "FAILED"): worst at input \(w.input), element \(w.index): "
            + "autograd \(w.analytic), finite differences \(w.numeric)"
    }
}

/// Checks the gradients autograd computes for `f` against central finite differences, so that
/// you can verify your own functions and layers:
///
///     let result = checkGradients(of: { x in (x[0] * x[1]).sigmoid() }, at: [a, b])
///     XCTAssertTrue(result.passed, result.description)
///
/// A non-scalar output is reduced with fixed random weights, so every output element counts.
/// Each input element is perturbed by ±`eps`; an element passes when
/// `|analytic - numeric| <= atol + rtol * |numeric|`. Float32 differences are noisy: keep `eps`
/// around 1e-2 and the inputs away from kinks (relu at 0, abs at 0, ties in max).
public func checkGradients(
    of f: ([Tensor]) -> Tensor, at inputs: [Tensor],
    eps: Float = 1e-2, rtol: Float = 2e-2, atol: Float = 2e-3
) -> GradientCheckResult {
    let probe = noGrad { f(inputs.map { $0.detach() }) }
    let weights = Tensor.uniform(probe.shape, 0.5, 1.5, generator: RandomGenerator(seed: 0x6AD))
    func loss(_ xs: [Tensor]) -> Tensor { (f(xs) * weights).sum() }

    // Autograd's answer.
    let parameters = inputs.map { input -> Tensor in
        var p = input.clone()
        p.requiresGrad = true
        return p
    }
    loss(parameters).backward()
    let analytic = parameters.map { $0.grad?.scalars ?? [Float](repeating: 0, count: $0.count) }

    // Central differences, one element at a time.
    var passed = true
    var worst: (input: Int, index: Int, analytic: Float, numeric: Float)?
    var worstExcess = -Float.infinity
    noGrad {
        for (i, input) in inputs.enumerated() {
            for j in 0..<input.count {
                var values = inputs.map { $0.detach() }
                var plus = input.scalars, minus = input.scalars
                plus[j] += eps
                minus[j] -= eps
                values[i] = Tensor(shape: input.shape, scalars: plus)
                let up = loss(values).item()
                values[i] = Tensor(shape: input.shape, scalars: minus)
                let down = loss(values).item()
                let numeric = (up - down) / (2 * eps)
                let excess = Swift.abs(analytic[i][j] - numeric) - (atol + rtol * Swift.abs(numeric))
                if !(excess <= 0) { passed = false }
                if excess > worstExcess || worst == nil || excess.isNaN {
                    worstExcess = excess.isNaN ? .infinity : excess
                    worst = (i, j, analytic[i][j], numeric)
                }
            }
        }
    }
    return GradientCheckResult(passed: passed, worst: worst)
}
