import Foundation

/// Recycles large Float buffers between tensors of the same size.
///
/// A training step allocates the same set of activation and gradient buffers every time. Large
/// allocations go to fresh pages from the kernel, and touching them costs a page fault per 4 KB
/// (measured: about 8% of a convolution's time). Freed buffers of at least `minimumBytes` are kept
/// here, up to `capacityBytes` in all, and handed back to the next request of the same size.
enum BufferCache {
    static let minimumBytes = 1 << 16
    static let capacityBytes = 1 << 29
    private static let state = LockedValue(State())

    private struct State {
        var free: [Int: [UnsafeMutableRawPointer]] = [:]
        var order: [(bytes: Int, pointer: UnsafeMutableRawPointer)] = []
        var total = 0
    }

    /// A 64-byte aligned buffer of at least `bytes` bytes, recycled when one of that size is free.
    /// With `hugePages`, a new large buffer is offered 2 MB pages (see below).
    static func allocate(bytes: Int, hugePages: Bool = false) -> UnsafeMutableRawPointer {
        _ = mallocKeepsFreedMemory
        if bytes >= minimumBytes,
            let recycled = state.withLock({ s -> UnsafeMutableRawPointer? in
                guard var list = s.free[bytes], let p = list.popLast() else { return nil }
                s.free[bytes] = list
                s.total -= bytes
                if let i = s.order.firstIndex(where: { $0.pointer == p }) { s.order.remove(at: i) }
                return p
            })
        {
            return recycled
        }
        guard hugePages, bytes >= hugePageThreshold else { return UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64) }
        // On 2 MB pages where the kernel gives them on request (Linux's transparent huge pages in
        // "madvise" mode): a step of the feature-major LSTM touches one row of every feature, rows
        // far apart, a 4 KB page each, and thrashed the TLB (fwd+bwd 14 → 16 sequences/s at
        // AWD-LSTM's sizes). Not for every buffer: ResNet-18's steps ran slower on them.
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: hugePageBytes)
        #if os(Linux)
        // Only whole huge pages inside the buffer (its start is aligned to one).
        _ = madvise(pointer, bytes / hugePageBytes * hugePageBytes, MADV_HUGEPAGE)
        #endif
        return pointer
    }

    /// What this cache does not keep goes back to malloc, which on glibc hands every block above
    /// its mmap threshold (at most 32 MB, adjusted as it goes) back to the kernel when freed, and
    /// trims its heap's free top above 128 KB: a later buffer of that size then touches fresh
    /// pages, each zeroed by the kernel on its first write. Set once, before the first large
    /// buffer, so that glibc keeps blocks under 256 MB in its heap and trims only above 1 GB
    /// free. A ResNet-34 epoch at 224 px (`Recipes/photos`, 500 photos, batch 32) takes 1.7-2.1M
    /// page faults with glibc's defaults and 1.0M with these, all of them in its first 15 s (the
    /// decoded photos and the first steps' buffers), its system time 8.2-11.2 s against 5.8-7.7 s
    /// (AMD EPYC, Zen 4); its peak memory grows by 3-4% (3,867-3,949 → 3,972-4,087 MiB).
    static let mallocKeepsFreedMemory: Void = {
        #if os(Linux)
        // `mallopt` and its parameters (malloc.h's M_TRIM_THRESHOLD -1, M_MMAP_THRESHOLD -3) are
        // not in Swift's Glibc module; looked up by name, absent from other C libraries (musl).
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        _ = mallopt(-3, 256 << 20)
        _ = mallopt(-1, 1 << 30)
        #endif
    }()

    /// 2 MB: the huge-page size on x86-64 and most ARM Linux kernels.
    static let hugePageBytes = 1 << 21
    /// Buffers from this size up are aligned to `hugePageBytes` and offered huge pages.
    static let hugePageThreshold = 1 << 22

    /// Returns a buffer from `allocate(bytes:)`: kept for reuse, or released when the cache is full
    /// (the oldest kept buffers go first).
    static func release(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        guard bytes >= minimumBytes, bytes <= capacityBytes / 4 else { pointer.deallocate(); return }
        let evicted = state.withLock { s -> [UnsafeMutableRawPointer] in
            s.free[bytes, default: []].append(pointer)
            s.order.append((bytes, pointer))
            s.total += bytes
            var out: [UnsafeMutableRawPointer] = []
            while s.total > capacityBytes, !s.order.isEmpty {
                let (b, p) = s.order.removeFirst()
                if var list = s.free[b], let i = list.firstIndex(of: p) {
                    list.remove(at: i)
                    s.free[b] = list
                }
                s.total -= b
                out.append(p)
            }
            return out
        }
        for p in evicted { p.deallocate() }
    }
}
