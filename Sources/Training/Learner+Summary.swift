import Autograd
import Layers
import Tensors

extension Learner {
    /// One batch through the model, layer by layer (fastai's `learn.summary()`): each leaf
    /// module's output shape, parameter count and whether it trains; then the totals, the
    /// optimizer, the loss and the callbacks. Printed and returned.
    @discardableResult
    public func summary() -> String {
        exclusively { summaryHoldingLock() }
    }

    private func summaryHoldingLock() -> String {
        let (x, _) = dls.train.oneBatch()
        var rows: [(String, [Int], Int, Bool)] = []
        model.eval()
        // A forward hook on every leaf layer sees its output (and keeps the model from running
        // fused: each layer runs on its own).
        let handles = model.allModules.filter(\.children.isEmpty).map { leaf in
            leaf.registerForwardHook { module, _, output in
                let params = module.ownParameters.reduce(0) { $0 + $1.tensor.count }
                let trains = module.ownParameters.contains { $0.tensor.requiresGrad }
                rows.append((String(describing: type(of: module)), output.shape, params, trains))
            }
        }
        _ = noGrad { model(x) }
        handles.forEach { $0.remove() }
        model.train()
        func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s + " " : s + String(repeating: " ", count: w - s.count) }
        var lines = [
            "\(type(of: model)) (Input shape: \(x.shape))", String(repeating: "=", count: 70),
            pad("Layer (type)", 24) + pad("Output Shape", 24) + pad("Param #", 12) + "Trainable",
            String(repeating: "=", count: 70),
        ]
        for (name, shape, params, trains) in rows {
            lines.append(pad(name, 24) + pad("\(shape)", 24) + pad(params > 0 ? "\(params)" : "", 12) + (params > 0 ? (trains ? "True" : "False") : ""))
        }
        let total = model.parameterCount
        let trainable = model.parameters.filter(\.requiresGrad).reduce(0) { $0 + $1.count }
        lines +=
            [
                String(repeating: "=", count: 70), "Total params: \(total)", "Total trainable params: \(trainable)",
                "Total non-trainable params: \(total - trainable)", "",
                "Optimizer used: \(opt.map { String(describing: type(of: $0)) } ?? optimizerDescription)",
                "Loss function: \(String(describing: lossFunction))", "",
                "Callbacks:",
            ] + callbacks.map { "  - \($0.name)" }
        let text = lines.joined(separator: "\n")
        print(text)
        return text
    }

    private var optimizerDescription: String { "(made on the first fit)" }
}
