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
