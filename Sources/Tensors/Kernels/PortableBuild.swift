// The kernels' one difference between a native and a portable build.
//
// Built for the machine (`-march=native`, what FastSwift's own package does), `addingProduct` is
// one fused multiply-add instruction. Built without CPU-feature flags (what SwiftPM gives a
// package used as a versioned dependency, where `unsafeFlags` are refused), x86-64 has no FMA
// instruction and `addingProduct` becomes a library call per lane, about 100 times slower. The
// manifest then defines FASTSWIFT_PORTABLE, and the kernels multiply and add instead (two
// roundings instead of one), with a GEMM micro-kernel sized for 16 SSE registers.

import Foundation

// `plusProduct`, the one function that differs, is defined in GEMM.swift beside the micro-kernels
// that spend most of the time in it: a debug build (`swift test`) optimises file by file, and
// `@inline(__always)` cannot reach across files (a call per FMA ran the GEMM at a fifth of its
// speed there).

/// Whether this build's kernels use the CPU's vector instructions, and the one-time notice
/// when they do not.
public enum KernelBuild {
    /// True when FastSwift was compiled for the machine's vector instructions (its own package
    /// builds this way); false in a portable build (a versioned dependency without the flags).
    public static var isNative: Bool {
        #if FASTSWIFT_PORTABLE
        false
        #else
        true
        #endif
    }

    /// How to get the native kernels in a package that depends on FastSwift.
    public static let nativeBuildCommand =
        "FASTSWIFT_NATIVE=1 swift build -c release -Xswiftc -Xcc -Xswiftc -march=native -Xswiftc -Xcc -Xswiftc -fno-math-errno"

    /// Prints, once per process and only in a portable build, which command gives the native
    /// kernels; `FASTSWIFT_QUIET=1` silences it.
    static let noticeOnce: Void = {
        guard !isNative, ProcessInfo.processInfo.environment["FASTSWIFT_QUIET"] != "1" else { return }
        FileHandle.standardError.write(
            Data(
                """
                FastSwift: these kernels were built without the CPU's vector instructions and run several times slower. \
                Build with `\(nativeBuildCommand)` for full speed (FASTSWIFT_QUIET=1 hides this line).

                """.utf8))
    }()
}
