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
    static func allocate(bytes: Int) -> UnsafeMutableRawPointer {
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
        return UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
    }

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
