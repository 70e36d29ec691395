import FastSwift
import Foundation

let n = Int(CommandLine.arguments.dropFirst().first ?? "1024")!
let threads = Int(CommandLine.arguments.dropFirst(2).first ?? "1")!
let a = UnsafeMutablePointer<Float>.allocate(capacity: n*n)
let b = UnsafeMutablePointer<Float>.allocate(capacity: n*n)
let c = UnsafeMutablePointer<Float>.allocate(capacity: n*n)
for i in 0..<n*n { a[i] = Float(i % 7) * 0.1; b[i] = Float(i % 5) * 0.1 }
for tA in [false, true] { for tB in [false, true] {
var best = 1e9
for _ in 0..<5 {
let t0 = DispatchTime.now().uptimeNanoseconds
Kernels.sgemm(transA: tA, transB: tB, m: n, n: n, k: n, a: a, lda: n, b: b, ldb: n, c: c, ldc: n, threads: threads)
let t = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
best = min(best, t)
}
print(tA, tB, n, threads, 2.0 * Double(n*n*n) / best / 1e9)
}}
