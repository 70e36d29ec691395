import Foundation
import XCTest
@testable import Autograd
@testable import Layers
@testable import Optimizers
@testable import Tensors

/// Gradients and optimizer steps against PyTorch's (Tests/Fixtures/make_torch_gradients.py):
/// convolution, pooling, batch norm, cross-entropy, SGD and AdamW.
final class TorchGradientTests: XCTestCase {
    var cases: [String: [String: Any]] = [:]

    override func setUpWithError() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/torch_gradients", withExtension: "json"))
        cases = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: [String: Any]])
    }

    func tensor(_ name: String, _ key: String, grad: Bool = false) throws -> Tensor {
        let entry = try XCTUnwrap(cases[name]?[key] as? [String: Any], "\(name).\(key)")
        let shape = try XCTUnwrap(entry["shape"] as? [Int]), values = try XCTUnwrap(entry["values"] as? [Double])
        var t = Tensor(shape: shape, scalars: values.map { Float($0) })
        if grad { t.requiresGrad = true }
        return t
    }

    func assertClose(_ mine: Tensor?, _ name: String, _ key: String, tolerance: Float = 1e-5) throws {
        let reference = try tensor(name, key)
        let value = try XCTUnwrap(mine, "\(name).\(key) missing")
        XCTAssertEqual(value.shape, reference.shape, "\(name).\(key)")
        let scale = max(reference.abs().max().item(), 1)
        let worst = (value - reference).abs().max().item()
        XCTAssertLessThanOrEqual(worst, tolerance * scale, "\(name).\(key): largest difference \(worst)")
    }

    func testConvolutionGradients() throws {
        let x = try tensor("conv2d", "x", grad: true), w = try tensor("conv2d", "w", grad: true), b = try tensor("conv2d", "b", grad: true)
        let y = Tensor.conv2d(x, weight: w, bias: b, stride: (2, 2), padding: (1, 1))
        (y * (try tensor("conv2d", "g"))).sum().backward()
        try assertClose(y, "conv2d", "y")
        try assertClose(x.grad, "conv2d", "dx")
        try assertClose(w.grad, "conv2d", "dw")
        try assertClose(b.grad, "conv2d", "db")
    }

    func testPoolingGradients() throws {
        let ops: [(String, (Tensor) -> Tensor)] = [
            ("max_pool2d", { $0.maxPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1)) }),
            ("avg_pool2d", { $0.avgPool2d(kernel: (2, 2), stride: (2, 2)) }),
            ("adaptive_avg_pool2d", { $0.adaptiveAvgPool2d((1, 1)) }),
        ]
        for (name, op) in ops {
            let x = try tensor(name, "x", grad: true)
            let y = op(x)
            (y * (try tensor(name, "g"))).sum().backward()
            try assertClose(y, name, "y")
            try assertClose(x.grad, name, "dx")
        }
    }

    func testBatchNormGradientsAndRunningStatistics() throws {
        let x = try tensor("batch_norm", "x", grad: true), w = try tensor("batch_norm", "w", grad: true), b = try tensor("batch_norm", "b", grad: true)
        let norm = BatchNorm2d(3)
        noGrad {
            norm.weight.overwrite(with: w)
            norm.bias.overwrite(with: b)
        }
        let y = norm(x)
        (y * (try tensor("batch_norm", "g"))).sum().backward()
        try assertClose(y, "batch_norm", "y")
        try assertClose(x.grad, "batch_norm", "dx", tolerance: 1e-4)
        try assertClose(norm.weight.grad, "batch_norm", "dw")
        try assertClose(norm.bias.grad, "batch_norm", "db")
        try assertClose(norm.runningMean, "batch_norm", "running_mean")
        try assertClose(norm.runningVar, "batch_norm", "running_var")
    }

    func testCrossEntropyAndItsGradient() throws {
        let logits = try tensor("cross_entropy", "logits", grad: true)
        let targets = Tensor(try XCTUnwrap(cases["cross_entropy"]?["targets"] as? [Int]).map(Float.init))
        let loss = crossEntropy(logits, targets)
        loss.backward()
        XCTAssertEqual(Double(loss.item()), try XCTUnwrap(cases["cross_entropy"]?["loss"] as? Double), accuracy: 1e-6)
        try assertClose(logits.grad, "cross_entropy", "dlogits")
    }

    func testSGDAndAdamStepsMatchPyTorch() throws {
        let optimizers: [(String, ([Tensor]) -> Optimizer)] = [
            ("sgd", { SGD($0, lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true) }),
            ("adamw", { Adam($0, lr: 0.01, momentum: 0.9, sqrMom: 0.99, eps: 1e-5, weightDecay: 0.01, decoupledWeightDecay: true) }),
        ]
        for (name, make) in optimizers {
            let p = try tensor(name, "start", grad: true)
            let opt = make([p])
            let grads = try XCTUnwrap(cases[name]?["grads"] as? [[String: Any]])
            for g in grads {
                let values = try XCTUnwrap(g["values"] as? [Double])
                p.grad = Tensor(values.map { Float($0) })
                opt.step()
            }
            try assertClose(p, name, "final", tolerance: 1e-6)
        }
    }
}
