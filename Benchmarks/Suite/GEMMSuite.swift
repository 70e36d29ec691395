import Tensors

/// `benchmarks gemm`: GFLOPS of square SGEMM (C = A·B, row-major, no transposition) at
/// 256, 512, 1024 and 2048, plus the transposed forms at 1024.
func runGEMMSuite(_ options: BenchmarkOptions) {
    var reporter = Reporter(json: options.json, columns: ["gflops"])
    let cases: [(n: Int, transA: Bool, transB: Bool)] =
        [256, 512, 1024, 2048].map { ($0, false, false) }
        + [(1024, true, false), (1024, false, true), (1024, true, true)]
    for threads in options.threads ?? defaultThreadCounts {
        for c in cases {
            let n = c.n
            let a = Tensor.randn([n, n], generator: RandomGenerator(seed: 1))
            let b = Tensor.randn([n, n], generator: RandomGenerator(seed: 2))
            var out = Tensor.zeros([n, n])
            let seconds = a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    out.withUnsafeMutableBufferPointer { pc in
                        measure(minSeconds: options.minSeconds) {
                            Kernels.sgemm(
                                transA: c.transA, transB: c.transB, m: n, n: n, k: n,
                                a: pa.baseAddress!, lda: n, b: pb.baseAddress!, ldb: n,
                                c: pc.baseAddress!, ldc: n, threads: threads)
                        }
                    }
                }
            }
            let name = "\(n)x\(n)x\(n)" + (c.transA || c.transB ? " " + (c.transA ? "T" : "N") + (c.transB ? "T" : "N") : "")
            reporter.report(
                BenchmarkResult(
                    suite: "gemm", name: name, threads: threads, seconds: seconds,
                    fields: [("gflops", 2 * Double(n * n * n) / seconds / 1e9)]))
        }
        for c in convolutionShapedCases {
            let a = Tensor.randn([c.m * c.k], generator: RandomGenerator(seed: 1))
            let b = Tensor.randn([c.k * c.n], generator: RandomGenerator(seed: 2))
            var out = Tensor.zeros([c.m * c.n])
            let seconds = a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    out.withUnsafeMutableBufferPointer { pc in
                        measure(minSeconds: options.minSeconds) {
                            Kernels.sgemm(
                                transA: c.transA, transB: c.transB, m: c.m, n: c.n, k: c.k,
                                a: pa.baseAddress!, lda: c.transA ? c.m : c.k, b: pb.baseAddress!, ldb: c.transB ? c.k : c.n,
                                c: pc.baseAddress!, ldc: c.n, threads: threads)
                        }
                    }
                }
            }
            let name = "\(c.m)x\(c.n)x\(c.k) " + (c.transA ? "T" : "N") + (c.transB ? "T" : "N")
            reporter.report(
                BenchmarkResult(
                    suite: "gemm", name: name, threads: threads, seconds: seconds,
                    fields: [("gflops", 2 * Double(c.m * c.n * c.k) / seconds / 1e9)]))
        }
    }
}

/// The GEMMs of ResNet-18's 3×3 convolutions on 28×28 MNIST at batch 64 (M×N×K): for each
/// stage, the forward product `W[Cout, K]•cols[K, P]` (NN), the weight gradient
/// `cols[K, P]•dYᵀ` (NT) and the input gradient `Wᵀ•dY[Cout, P]` (TN).
let convolutionShapedCases: [(m: Int, n: Int, k: Int, transA: Bool, transB: Bool)] =
    [
        (64, 3136, 576), (128, 1024, 1152), (256, 256, 2304), (512, 64, 512),
    ].flatMap { (cout: Int, p: Int, k: Int) in
        [(cout, p, k, false, false), (k, cout, p, false, true), (cout, k, p, false, false), (k, p, cout, true, false)]
    }
    // The dense products of ResNet-18's 3x3 convolutions over 2x2 maps at batch 64
    // (`Kernels/DenseConvolution.swift`): forward, input gradient, matrix gradient.
    + [(1024, 64, 1024, false, true), (64, 1024, 1024, false, false), (1024, 1024, 64, true, false)]
