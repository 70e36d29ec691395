import Tensors

/// `benchmarks gemm`: GFLOPS of square SGEMM (C = A·B, row-major, no transposition) at
/// 256, 512, 1024 and 2048, plus the transposed forms at 1024.
func runGEMMSuite(_ options: BenchmarkOptions) {
    var reporter = Reporter(json: options.json, columns: ["gflops"])
    let cases: [(n: Int, transA: Bool, transB: Bool)] = [256, 512, 1024, 2048].map { ($0, false, false) }
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
                            Kernels.sgemm(transA: c.transA, transB: c.transB, m: n, n: n, k: n,
                                          a: pa.baseAddress!, lda: n, b: pb.baseAddress!, ldb: n,
                                          c: pc.baseAddress!, ldc: n, threads: threads)
                        }
                    }
                }
            }
            let name = "\(n)x\(n)x\(n)" + (c.transA || c.transB ? " " + (c.transA ? "T" : "N") + (c.transB ? "T" : "N") : "")
            reporter.report(BenchmarkResult(suite: "gemm", name: name, threads: threads, seconds: seconds,
                                            fields: [("gflops", 2 * Double(n * n * n) / seconds / 1e9)]))
        }
    }
}
