// Matrix products with torch.matmul's rules, and the `•` operator (PyTorch's `@`).

infix operator • : MultiplicationPrecedence

extension Tensor {
    /// The matrix product, with torch.matmul's rules:
    /// - vector • vector: their dot product (a scalar);
    /// - matrix • matrix: `[n, k] • [k, m] → [n, m]`;
    /// - vector • matrix and matrix • vector: the vector is treated as a row (or column) and
    ///   that axis is removed from the result;
    /// - higher ranks: a batch of matrices, `[..., n, k] • [..., k, m] → [..., n, m]`, the batch
    ///   axes broadcast against each other.
    public func matmul(_ other: Tensor) -> Tensor {
        matmul(other, transposeSelf: false, transposeOther: false)
    }

    /// The matrix product of `self` (or its transpose) and `other` (or its transpose), the
    /// transposition of the last two axes being done by the GEMM kernel without a copy:
    /// `a.matmul(b, transposeOther: true)` is `a • b.transpose()`. Both must have rank 2 or more
    /// when a transposition is asked for.
    public func matmul(_ other: Tensor, transposeSelf: Bool, transposeOther: Bool) -> Tensor {
        let a = self, b = other
        if (transposeSelf && a.rank < 2) || (transposeOther && b.rank < 2) {
            fatalError(shapeMismatchMessage(op: "matmul", a.shape, b.shape, reason: "cannot be transposed: transposition needs rank 2 or more"))
        }
        if a.rank == 0 || b.rank == 0 {
            fatalError(shapeMismatchMessage(op: "matmul", a.shape, b.shape, reason: "cannot be multiplied: both need at least one dimension"))
        }
        // Promote vectors to matrices, remembering which axes to drop from the result.
        let a2 = a.rank == 1 ? a.reshape([1, a.shape[0]]) : a
        let b2 = b.rank == 1 ? b.reshape([b.shape[0], 1]) : b
        let (m, ka) = transposeSelf ? (a2.shape[a2.rank - 1], a2.shape[a2.rank - 2]) : (a2.shape[a2.rank - 2], a2.shape[a2.rank - 1])
        let (kb, n) = transposeOther ? (b2.shape[b2.rank - 1], b2.shape[b2.rank - 2]) : (b2.shape[b2.rank - 2], b2.shape[b2.rank - 1])
        guard ka == kb else {
            fatalError(
                shapeMismatchMessage(
                    op: "matmul", a.shape, b.shape,
                    reason: "cannot be multiplied (\(m)x\(ka) and \(kb)x\(n))"))
        }
        let batchA = Array(a2.shape.dropLast(2)), batchB = Array(b2.shape.dropLast(2))
        guard let batch = broadcastShape(batchA, batchB) else {
            fatalError(shapeMismatchMessage(op: "matmul", a.shape, b.shape, reason: "have batch dimensions that cannot be broadcast together"))
        }
        var result = Tensor(uninitializedShape: batch + [m, n])
        let lda = a2.shape[a2.rank - 1], ldb = b2.shape[b2.rank - 1]

        if batchB.allSatisfy({ $0 == 1 }) && !transposeSelf {
            // One GEMM: fold A's batch into its rows.
            let rows = batch.reduce(1, *) * m
            Kernels.sgemm(
                transA: false, transB: transposeOther, m: rows, n: n, k: ka,
                a: a2.pointer, lda: lda, b: b2.pointer, ldb: ldb, c: result.pointer, ldc: n)
        } else {
            let count = batch.reduce(1, *)
            let plan = BroadcastPlan(output: batch, a: batchA, b: batchB)
            let sizeA = a2.shape.suffix(2).reduce(1, *), sizeB = b2.shape.suffix(2).reduce(1, *)
            var index = 0
            plan.forEachRow(in: 0..<plan.rows) { _, offA, offB in
                for i in 0..<plan.innerCount {
                    Kernels.sgemm(
                        transA: transposeSelf, transB: transposeOther, m: m, n: n, k: ka,
                        a: a2.pointer + (offA + i * plan.innerStride.0) * sizeA, lda: lda,
                        b: b2.pointer + (offB + i * plan.innerStride.1) * sizeB, ldb: ldb,
                        c: result.pointer + index * m * n, ldc: n)
                    index += 1
                }
            }
            precondition(index == count)
        }
        result = result.recorded(.matmul(transposeA: transposeSelf, transposeB: transposeOther), a2, b2)
        if a.rank == 1 && b.rank == 1 { return result.reshape([]) }
        if a.rank == 1 { result = result.squeeze(-2) }
        if b.rank == 1 { result = result.squeeze(-1) }
        return result
    }

    /// The matrix product (PyTorch's `a @ b`); see `matmul(_:)`. Type `•` with Option-8 on a Mac.
    public static func • (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.matmul(rhs) }
}

extension Tensor {
    /// A fully connected layer's math, `x • weightᵀ + bias`, as one GEMM that starts from the
    /// bias (PyTorch's `F.linear`). `x` is `[..., in]`, `weight` is `[out, in]` (PyTorch's layout),
    /// `bias` is `[out]`; the result is `[..., out]`.
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        guard x.rank >= 1, weight.rank == 2, x.shape[x.rank - 1] == weight.shape[1] else {
            fatalError(
                shapeMismatchMessage(
                    op: "linear", x.shape, weight.shape,
                    reason: "do not fit: the input's last dimension must equal the weight's second"))
        }
        let (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1])
        if let bias, bias.shape != [outFeatures] {
            fatalError(shapeMismatchMessage(op: "linear", weight.shape, bias.shape, reason: "do not fit: the bias needs one value per output"))
        }
        let rows = x.count / Swift.max(inFeatures, 1)
        let result = Tensor(uninitializedShape: Array(x.shape.dropLast()) + [outFeatures])
        if let bias {
            for r in 0..<rows { (result.pointer + r * outFeatures).update(from: bias.pointer, count: outFeatures) }
        }
        Kernels.sgemm(
            transA: false, transB: true, m: rows, n: outFeatures, k: inFeatures,
            a: x.pointer, lda: inFeatures, b: weight.pointer, ldb: inFeatures,
            beta: bias == nil ? 0 : 1, c: result.pointer, ldc: outFeatures)
        return result.recorded(.linear, inputs: bias.map { [x, weight, $0] } ?? [x, weight])
    }
}
