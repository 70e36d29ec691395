// How a batch of feature maps is laid out in memory, plane by plane: NCHW or channel-major, and
// the copies between the two (with a convolution's epilogue applied on the way).

extension Kernels {
    /// Where the plane of sample `s`, channel `c` starts, in planes from a batch's first plane:
    /// `s·sampleStride + c·channelStride`. NCHW has strides (C, 1); channel-major `[C, N, H, W]`
    /// has (1, N).
    struct PlaneLayout: Sendable {
        let sampleStride: Int, channelStride: Int

        /// NCHW with `channels` channels.
        static func nchw(channels: Int) -> PlaneLayout { PlaneLayout(sampleStride: channels, channelStride: 1) }
        /// Channel-major `[C, samples, H, W]`.
        static func channelMajor(samples: Int) -> PlaneLayout { PlaneLayout(sampleStride: 1, channelStride: samples) }

        @inline(__always)
        func plane(sample s: Int, channel c: Int) -> Int { s * sampleStride + c * channelStride }
    }

    /// What a convolution does to each output value as its GEMM result is laid out: `v·scale[c] +
    /// shift[c]` (a bias is a shift alone), then `+ residual` (the output's shape and layout),
    /// then ReLU. Each part is optional; with none, a plain copy.
    struct ChannelEpilogue {
        var scale: UnsafePointer<Float>? = nil
        var shift: UnsafePointer<Float>? = nil
        var residual: UnsafePointer<Float>? = nil
        var relu = false

        /// Adds a per-channel bias, when there is one.
        static func bias(_ bias: UnsafePointer<Float>?) -> ChannelEpilogue { ChannelEpilogue(shift: bias) }

        init(
            scale: UnsafePointer<Float>? = nil, shift: UnsafePointer<Float>? = nil,
            residual: UnsafePointer<Float>? = nil, relu: Bool = false
        ) {
            self.scale = scale; self.shift = shift; self.residual = residual; self.relu = relu
        }
    }

    /// `out[s, c, q] = epilogue(rows[c, s·Q + q])`: a `[C, samples·Q]` GEMM result to NCHW. The
    /// arithmetic is `channelAffine`'s (see `applyEpilogue`), so an epilogue gives the bits the
    /// separate batch-norm pass would.
    static func channelRowsToNCHW(
        _ rows: UnsafePointer<Float>, samples: Int, pixels: Int, channels: Int,
        epilogue: ChannelEpilogue = ChannelEpilogue(), _ out: UnsafeMutablePointer<Float>
    ) {
        layOutChannelRows(
            rows, samples: samples, pixels: pixels, channels: channels, epilogue: epilogue, out,
            layout: .nchw(channels: channels))
    }

    /// `rows[c, s·Q + q] = epilogue(rows[c, s·Q + q])` in place: a `[C, samples·Q]` GEMM result
    /// that already is channel-major maps (the residual channel-major too), with
    /// `channelRowsToNCHW`'s arithmetic, so each value gets the same bits.
    static func applyChannelEpilogue(
        _ rows: UnsafeMutablePointer<Float>, samples: Int, pixels: Int, channels: Int,
        epilogue: ChannelEpilogue
    ) {
        let plainCopy = epilogue.scale == nil && epilogue.shift == nil && epilogue.residual == nil && !epilogue.relu
        if plainCopy { return }
        layOutChannelRows(
            rows, samples: samples, pixels: pixels, channels: channels, epilogue: epilogue, rows,
            layout: .channelMajor(samples: samples))
    }

    /// `out[plane(s, c), q] = epilogue(rows[c, s·Q + q])`, the residual laid out as `out`.
    private static func layOutChannelRows(
        _ rows: UnsafePointer<Float>, samples: Int, pixels: Int, channels: Int,
        epilogue: ChannelEpilogue, _ out: UnsafeMutablePointer<Float>, layout: PlaneLayout
    ) {
        let shared = UncheckedSendable((rows, out, epilogue))
        let parts = channelParts(samples * pixels * channels, units: channels)
        parallelFor(chunks: parts) { part in
            let (rows, out, e) = shared.value
            for c in splitRange(channels, parts: parts, part: part) {
                for s in 0..<samples {
                    let offset = layout.plane(sample: s, channel: c) * pixels
                    applyEpilogue(
                        e, channel: c, rows + c * samples * pixels + s * pixels, out + offset,
                        residual: e.residual.map { $0 + offset }, pixels: pixels)
                }
            }
        }
    }

    /// `dst[q] = epilogue(src[q])` over one map of channel `c` (`residual`, if any, the matching
    /// map of the epilogue's residual): `channelAffine`'s arithmetic, a fused multiply-add per
    /// vector counted from the map's start, multiply then add in the tail; a fused multiply-add
    /// per value over maps narrower than a vector, which `channelAffine` walks a row of channels
    /// at a time (NarrowChannelKernels.swift).
    @inline(__always)
    static func applyEpilogue(
        _ e: ChannelEpilogue, channel c: Int, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
        residual: UnsafePointer<Float>?, pixels: Int
    ) {
        let plainCopy = e.scale == nil && e.shift == nil && residual == nil && !e.relu
        if plainCopy {
            if UnsafePointer(dst) != src { copyFloats(src, dst, pixels) }
            return
        }
        let scale = e.scale?[c] ?? 1, shift = e.shift?[c] ?? 0
        let vScale = Vec(repeating: scale), vShift = Vec(repeating: shift)
        if pixels < narrowMapLimit {
            var v = loadPartial(src, pixels)
            v = e.scale == nil ? v + vShift : vShift.plusProduct(vScale, v)
            if let residual { v += loadPartial(residual, pixels) }
            if e.relu { v = v.replacing(with: 0, where: v .< 0) }
            storePartial(v, dst, pixels)
            return
        }
        var q = 0
        while q + 16 <= pixels {
            var v = e.scale == nil ? load(src, q) + vShift : vShift.plusProduct(vScale, load(src, q))
            if let residual { v += load(residual, q) }
            if e.relu { v = v.replacing(with: 0, where: v .< 0) }
            store(v, dst, q)
            q += 16
        }
        while q < pixels {
            var v = e.scale == nil ? src[q] + shift : shift + scale * src[q]
            if let residual { v += residual[q] }
            if e.relu && v < 0 { v = 0 }
            dst[q] = v
            q += 1
        }
    }

    /// `rows[c, s·Q + q] = x[s, c, q]`: NCHW to a `[C, samples·Q]` matrix.
    static func nchwToChannelRows(
        _ x: UnsafePointer<Float>, samples: Int, pixels: Int, channels: Int,
        _ rows: UnsafeMutablePointer<Float>
    ) {
        let shared = UncheckedSendable((x, rows))
        let parts = channelParts(samples * pixels * channels, units: channels)
        parallelFor(chunks: parts) { part in
            let (x, rows) = shared.value
            for c in splitRange(channels, parts: parts, part: part) {
                for s in 0..<samples {
                    copyFloats(x + (s * channels + c) * pixels, rows + c * samples * pixels + s * pixels, pixels)
                }
            }
        }
    }

    /// Copies `count` floats with vector moves (short runs: cheaper than a memmove call).
    @inline(__always)
    static func copyFloats(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        var i = 0
        while i + 16 <= count { store(load(src, i), dst, i); i += 16 }
        while i < count { dst[i] = src[i]; i += 1 }
    }
}
