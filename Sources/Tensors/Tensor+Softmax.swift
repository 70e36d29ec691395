// Softmax, log-softmax, and picking one column per row (the pieces of cross-entropy).

extension Tensor {
    private func softmaxed(dim: Int, log: Bool) -> Tensor {
        guard rank > 0 else { return log ? Tensor.zeros([]) : Tensor.ones([]) }
        let d = Tensor.normalizeAxis(dim, rank: rank, op: log ? "logSoftmax" : "softmax")
        if d != rank - 1 {
            // Move the axis last, where rows are contiguous, and back.
            return transpose(d, -1).softmaxed(dim: -1, log: log).transpose(d, -1)
        }
        let n = shape[d]
        let result = Tensor(uninitializedShape: shape)
        if count > 0 { Kernels.softmaxRows(pointer, result.pointer, rows: count / n, n: n, log: log) }
        return result.recorded(log ? .logSoftmax(dim: d) : .softmax(dim: d), self)
    }

    /// `exp(x) / sum(exp(x))` along `dim` (by default the last), computed stably.
    public func softmax(dim: Int = -1) -> Tensor { softmaxed(dim: dim, log: false) }

    /// `x - log(sum(exp(x)))` along `dim` (by default the last), computed stably.
    public func logSoftmax(dim: Int = -1) -> Tensor { softmaxed(dim: dim, log: true) }

    /// For each row `i` of a matrix, the element in column `indices[i]` (PyTorch's
    /// `x[range(n), indices]`, or `x.gather(1, indices.unsqueeze(1)).squeeze(1)`).
    public func gatherColumns(_ indices: [Int]) -> Tensor {
        guard rank == 2, indices.count == shape[0] else {
            fatalError("gatherColumns: needs a matrix and one index per row, got shape \(shape) and \(indices.count) indices")
        }
        let columns = shape[1]
        let result = Tensor(uninitializedShape: [shape[0]])
        for (i, j) in indices.enumerated() {
            guard j >= 0 && j < columns else {
                fatalError("gatherColumns: index \(j) in row \(i) is out of bounds for \(columns) columns")
            }
            result.pointer[i] = pointer[i * columns + j]
        }
        return result.recorded(.pickColumns(indices: indices), self)
    }

    /// The whole-number values as `Int`s (class labels, predicted classes). Traps on a value that
    /// is not a whole number.
    public func indices() -> [Int] {
        (0..<count).map { i in
            let v = pointer[i]
            guard v == v.rounded(), Swift.abs(v) < 16_777_216 else { fatalError("indices(): element \(i) is \(v), not a whole number") }
            return Int(v)
        }
    }
}

extension Tensor {
    /// Cross-entropy of `logits` (`[n, classes]`) against class indices, fused with a stable
    /// log-softmax: the mean (or sum) over rows of `logsumexp(row) - row[target]`.
    public static func crossEntropy(logits: Tensor, targets: [Int], mean: Bool = true) -> Tensor {
        guard logits.rank == 2, targets.count == logits.shape[0] else {
            fatalError("crossEntropy: expected logits [n, classes] and n targets, got logits \(logits.shape) and \(targets.count) targets")
        }
        let classes = logits.shape[1]
        for (i, t) in targets.enumerated() where t < 0 || t >= classes {
            fatalError("crossEntropy: target \(t) in row \(i) is not a class index in 0..<\(classes)")
        }
        let logProbs = Tensor(uninitializedShape: logits.shape)
        if logits.count > 0 { Kernels.softmaxRows(logits.pointer, logProbs.pointer, rows: targets.count, n: classes, log: true) }
        var total: Double = 0
        for (i, t) in targets.enumerated() { total -= Double(logProbs.pointer[i * classes + t]) }
        let value = Float(mean ? total / Double(Swift.max(targets.count, 1)) : total)
        return Tensor(value).recorded(.crossEntropy(targets: targets, mean: mean), logits)
    }
}
