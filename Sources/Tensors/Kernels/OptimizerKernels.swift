// Fused parameter updates: one pass over a parameter, its gradient and its optimizer state.
// An optimizer step updates every parameter in one parallel pass (`forEachPiece`): the threads
// share the model's elements evenly, as PyTorch's `foreach`/`fused` optimizers do, instead of
// one dispatch (or one thread) per parameter.

extension Kernels {
    /// Calls `body(segment, range)` for pieces of several buffers of sizes `counts`, the pieces
    /// split over the threads as evenly as if the buffers were one: one dispatch for a whole
    /// optimizer step. Every element is visited exactly once; piece boundaries fall on multiples
    /// of 64 elements of the flat order, so the result does not depend on the thread count.
    static func forEachPiece(of counts: [Int], _ body: (Int, Range<Int>) -> Void) {
        var starts = [Int](), total = 0
        starts.reserveCapacity(counts.count)
        for c in counts { starts.append(total); total += c }
        let threads = Threads.count
        let parts = min(threads == 1 ? 1 : 2 * threads, max(1, total / elementwiseParallelThreshold))
        starts.withUnsafeBufferPointer { startsBuffer in
            let shared = UncheckedSendable(startsBuffer)
            parallelFor(chunks: parts) { part in
                let starts = shared.value
                let flat = splitRange(total, parts: parts, part: part, granule: 64)
                // The last segment starting at or before the piece's first element.
                var lo = 0, hi = starts.count - 1
                while lo < hi {
                    let mid = (lo + hi + 1) / 2
                    if starts[mid] <= flat.lowerBound { lo = mid } else { hi = mid - 1 }
                }
                var segment = lo, position = flat.lowerBound
                while position < flat.upperBound && segment < starts.count {
                    let end = min(flat.upperBound, starts[segment] + counts[segment])
                    if end > position { body(segment, (position - starts[segment])..<(end - starts[segment])) }
                    position = max(position, end)
                    segment += 1
                }
            }
        }
    }

    /// SGD with momentum, dampening, Nesterov and weight decay, as PyTorch defines it (L2):
    ///   g = grad + wd·p;  buf = momentum·buf + (1 - dampening)·g  (buf = g on the first step);
    ///   g = nesterov ? g + momentum·buf : buf;  p -= lr·g
    /// or, `decoupled`, with fastai's true weight decay instead of the L2 term: p = p·(1 - lr·wd) - lr·g.
    /// `velocity` may be nil when momentum is 0.
    static func sgdUpdate(
        parameter p: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
        velocity: UnsafeMutablePointer<Float>?, count: Int, lr: Float, momentum: Float,
        dampening: Float, weightDecay: Float, decoupled: Bool = false, nesterov: Bool, firstStep: Bool
    ) {
        let vlr = Vec(repeating: lr), vwd = Vec(repeating: decoupled ? 0 : weightDecay)
        let decay = Vec(repeating: decoupled ? 1 - lr * weightDecay : 1)
        let vm = Vec(repeating: momentum), vd = Vec(repeating: firstStep ? 1 : 1 - dampening)
        let keep = Vec(repeating: firstStep ? 0 : momentum)
        var i = 0
        @inline(__always) func update(_ pv: Vec, _ gv: Vec, _ bv: Vec) -> (Vec, Vec) {
            let g = gv.plusProduct(vwd, pv)
            guard velocity != nil else { return (pv * decay - vlr * g, bv) }
            let buf = (keep * bv).plusProduct(vd, g)
            let step = nesterov ? g.plusProduct(vm, buf) : buf
            return (pv * decay - vlr * step, buf)
        }
        while i + 16 <= count {
            let (np, nb) = update(load(p, i), load(gradient, i), velocity.map { load($0, i) } ?? Vec())
            store(np, p, i)
            if let velocity { store(nb, velocity, i) }
            i += 16
        }
        if i < count {
            let n = count - i
            let (np, nb) = update(loadPartial(p + i, n), loadPartial(gradient + i, n), velocity.map { loadPartial($0 + i, n) } ?? Vec())
            storePartial(np, p + i, n)
            if let velocity { storePartial(nb, velocity + i, n) }
        }
    }

    /// Adam (fastai's form): with decoupled weight decay `p *= 1 - lr·wd` (else L2: g += wd·p);
    ///   m = β1·m + (1 - β1)·g;  v = β2·v + (1 - β2)·g²;
    ///   p -= lr · (m / (1 - β1^t)) / (√(v / (1 - β2^t)) + eps)
    static func adamUpdate(
        parameter p: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
        average m: UnsafeMutablePointer<Float>, squareAverage v: UnsafeMutablePointer<Float>,
        count: Int, lr: Float, beta1: Float, beta2: Float, eps: Float,
        weightDecay: Float, decoupled: Bool, step t: Int
    ) {
        let correction1 = 1 - Float(Double(beta1).power(t)), correction2 = 1 - Float(Double(beta2).power(t))
        let vb1 = Vec(repeating: beta1), vb2 = Vec(repeating: beta2)
        let v1b1 = Vec(repeating: 1 - beta1), v1b2 = Vec(repeating: 1 - beta2)
        let decay = Vec(repeating: decoupled ? 1 - lr * weightDecay : 1), l2 = Vec(repeating: decoupled ? 0 : weightDecay)
        let stepSize = Vec(repeating: lr / correction1), vc2 = Vec(repeating: 1 / correction2), veps = Vec(repeating: eps)
        @inline(__always) func update(_ pv: Vec, _ gv: Vec, _ mv: Vec, _ vv: Vec) -> (Vec, Vec, Vec) {
            let g = gv.plusProduct(l2, pv)
            let nm = (vb1 * mv).plusProduct(v1b1, g)
            let nv = (vb2 * vv).plusProduct(v1b2, g * g)
            let np = pv * decay - stepSize * nm / ((nv * vc2).squareRoot() + veps)
            return (np, nm, nv)
        }
        var i = 0
        // Four vectors at a time: each waits on a square root and a division, and four in flight
        // keep memory busy (measured on an AMD EPYC Zen 4, the step over ResNet-18's 11.7M
        // parameters: 15.4-16.4 ms one at a time, 11.9-12.7 four at a time, 12.8-13.1 eight,
        // while the square root still went lane by lane; 5.2-6.9 ms since Package.swift's
        // -fno-math-errno made it one vsqrtps).
        while i + 64 <= count {
            let (np0, nm0, nv0) = update(load(p, i), load(gradient, i), load(m, i), load(v, i))
            let (np1, nm1, nv1) = update(load(p, i + 16), load(gradient, i + 16), load(m, i + 16), load(v, i + 16))
            let (np2, nm2, nv2) = update(load(p, i + 32), load(gradient, i + 32), load(m, i + 32), load(v, i + 32))
            let (np3, nm3, nv3) = update(load(p, i + 48), load(gradient, i + 48), load(m, i + 48), load(v, i + 48))
            store(np0, p, i); store(nm0, m, i); store(nv0, v, i)
            store(np1, p, i + 16); store(nm1, m, i + 16); store(nv1, v, i + 16)
            store(np2, p, i + 32); store(nm2, m, i + 32); store(nv2, v, i + 32)
            store(np3, p, i + 48); store(nm3, m, i + 48); store(nv3, v, i + 48)
            i += 64
        }
        while i + 16 <= count {
            let (np, nm, nv) = update(load(p, i), load(gradient, i), load(m, i), load(v, i))
            store(np, p, i); store(nm, m, i); store(nv, v, i)
            i += 16
        }
        if i < count {
            let n = count - i
            let (np, nm, nv) = update(loadPartial(p + i, n), loadPartial(gradient + i, n), loadPartial(m + i, n), loadPartial(v + i, n))
            storePartial(np, p + i, n); storePartial(nm, m + i, n); storePartial(nv, v + i, n)
        }
    }
}

private extension Double {
    func power(_ n: Int) -> Double {
        var result = 1.0
        for _ in 0..<n { result *= self }
        return result
    }
}
