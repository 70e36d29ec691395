import Tensors

// From a JPEG's coefficients to pixels, as libjpeg-turbo does by default (so the output matches
// `djpeg` and PIL): the accurate integer inverse DCT (`islow`), "fancy" triangle-filter chroma
// upsampling, and YCbCr → RGB conversion in its fixed-point arithmetic; then the EXIF orientation.

/// libjpeg's `islow` inverse DCT (Loeffler–Ligtenberg–Moschytz, 13-bit fixed-point constants),
/// eight columns or rows at once.
enum JPEGInverseDCT {
    typealias Row = SIMD8<Int32>
    private static let c0_298631336: Int32 = 2446, c0_390180644: Int32 = 3196, c0_541196100: Int32 = 4433
    private static let c0_765366865: Int32 = 6270, c0_899976223: Int32 = 7373, c1_175875602: Int32 = 9633
    private static let c1_501321110: Int32 = 12299, c1_847759065: Int32 = 15137, c1_961570560: Int32 = 16069
    private static let c2_053119869: Int32 = 16819, c2_562915447: Int32 = 20995, c3_072711026: Int32 = 25172

    /// One 1-D pass over eight vectors `x[0...7]` (the frequency index), each holding eight
    /// independent lanes; results are `(value + round) >> shift`.
    @inline(__always)
    static func pass(_ x: inout (Row, Row, Row, Row, Row, Row, Row, Row), round: Int32, shift: Int32) {
        let z1e = (x.2 &+ x.6) &* c0_541196100
        let tmp2e = z1e &+ x.6 &* -c1_847759065
        let tmp3e = z1e &+ x.2 &* c0_765366865
        let tmp0e = (x.0 &+ x.4) &<< 13, tmp1e = (x.0 &- x.4) &<< 13
        let tmp10 = tmp0e &+ tmp3e, tmp13 = tmp0e &- tmp3e, tmp11 = tmp1e &+ tmp2e, tmp12 = tmp1e &- tmp2e

        var tmp0 = x.7, tmp1 = x.5, tmp2 = x.3, tmp3 = x.1
        var z1 = tmp0 &+ tmp3, z2 = tmp1 &+ tmp2, z3 = tmp0 &+ tmp2, z4 = tmp1 &+ tmp3
        let z5 = (z3 &+ z4) &* c1_175875602
        tmp0 = tmp0 &* c0_298631336; tmp1 = tmp1 &* c2_053119869; tmp2 = tmp2 &* c3_072711026; tmp3 = tmp3 &* c1_501321110
        z1 = z1 &* -c0_899976223; z2 = z2 &* -c2_562915447; z3 = z3 &* -c1_961570560; z4 = z4 &* -c0_390180644
        z3 = z3 &+ z5; z4 = z4 &+ z5
        tmp0 = tmp0 &+ z1 &+ z3; tmp1 = tmp1 &+ z2 &+ z4; tmp2 = tmp2 &+ z2 &+ z3; tmp3 = tmp3 &+ z1 &+ z4

        let r = Row(repeating: round), s = Row(repeating: shift)
        x = (
            (tmp10 &+ tmp3 &+ r) &>> s, (tmp11 &+ tmp2 &+ r) &>> s, (tmp12 &+ tmp1 &+ r) &>> s, (tmp13 &+ tmp0 &+ r) &>> s,
            (tmp13 &- tmp0 &+ r) &>> s, (tmp12 &- tmp1 &+ r) &>> s, (tmp11 &- tmp2 &+ r) &>> s, (tmp10 &- tmp3 &+ r) &>> s
        )
    }

    /// An 8×8 transpose of eight vectors (the rows) into eight vectors (the columns), as
    /// AVX2 code does it: 32-bit and 64-bit interleaves within each 128-bit half, then the
    /// halves exchanged (24 shuffles).
    @inline(__always)
    static func transpose(_ r: (Row, Row, Row, Row, Row, Row, Row, Row)) -> (Row, Row, Row, Row, Row, Row, Row, Row) {
        @inline(__always) func low32(_ a: Row, _ b: Row) -> Row { Row(a[0], b[0], a[1], b[1], a[4], b[4], a[5], b[5]) }
        @inline(__always) func high32(_ a: Row, _ b: Row) -> Row { Row(a[2], b[2], a[3], b[3], a[6], b[6], a[7], b[7]) }
        @inline(__always) func low64(_ a: Row, _ b: Row) -> Row { Row(a[0], a[1], b[0], b[1], a[4], a[5], b[4], b[5]) }
        @inline(__always) func high64(_ a: Row, _ b: Row) -> Row { Row(a[2], a[3], b[2], b[3], a[6], a[7], b[6], b[7]) }
        let t0 = low32(r.0, r.1), t1 = high32(r.0, r.1), t2 = low32(r.2, r.3), t3 = high32(r.2, r.3)
        let t4 = low32(r.4, r.5), t5 = high32(r.4, r.5), t6 = low32(r.6, r.7), t7 = high32(r.6, r.7)
        let u0 = low64(t0, t2), u1 = high64(t0, t2), u2 = low64(t1, t3), u3 = high64(t1, t3)
        let u4 = low64(t4, t6), u5 = high64(t4, t6), u6 = low64(t5, t7), u7 = high64(t5, t7)
        return (
            Row(lowHalf: u0.lowHalf, highHalf: u4.lowHalf), Row(lowHalf: u1.lowHalf, highHalf: u5.lowHalf),
            Row(lowHalf: u2.lowHalf, highHalf: u6.lowHalf), Row(lowHalf: u3.lowHalf, highHalf: u7.lowHalf),
            Row(lowHalf: u0.highHalf, highHalf: u4.highHalf), Row(lowHalf: u1.highHalf, highHalf: u5.highHalf),
            Row(lowHalf: u2.highHalf, highHalf: u6.highHalf), Row(lowHalf: u3.highHalf, highHalf: u7.highHalf)
        )
    }

    /// `v` clamped to 0...255 in the low byte of each lane (higher bytes are garbage), by
    /// shifts and masks: the generic `clamped(lowerBound:upperBound:)` was not inlined in the
    /// decoding loop, and its calls spilled every live vector.
    @inline(__always)
    static func byteClamped<V: SIMD>(_ v: V) -> V where V.Scalar == Int32 {
        let nonNegative = v & ~(v &>> 31)
        return nonNegative | ((V(repeating: 255) &- nonNegative) &>> 31)
    }

    /// Dequantises one block (natural order) and writes its 8×8 samples at `out` (rows
    /// `stride` apart). `last` is the highest zig-zag position holding a non-zero coefficient
    /// (0: the block is its DC term alone). Blocks whose coefficients all lie in the top-left
    /// 4×4 quarter (zig-zag positions up to 9) take a pass with the zero half left out; the
    /// values are the same.
    @inline(__always)
    static func block(_ coefficients: UnsafePointer<Int16>, quant: UnsafePointer<Int32>, out: UnsafeMutablePointer<UInt8>, stride: Int, last: Int) {
        if last == 0 {
            // Both passes of a DC-only block give one value (the same arithmetic, shortened).
            let dc = Int32(coefficients[0]) &* quant[0]
            let v = UInt8(clamping: ((dc &<< 2) &+ 4112) &>> 5)
            let row = UInt64(v) &* 0x0101_0101_0101_0101
            for r in 0..<8 { UnsafeMutableRawPointer(out + r * stride).storeBytes(of: row, as: UInt64.self) }
        } else if last <= 9 {
            transform(coefficients, quant: quant, out: out, stride: stride, quarter: true)
        } else {
            transform(coefficients, quant: quant, out: out, stride: stride, quarter: false)
        }
    }

    /// The two passes; with `quarter`, rows 4...7 of the coefficients and columns 4...7 of the
    /// first pass's output are known zeros (a constant here, so the compiler drops their terms).
    @inline(__always)
    private static func transform(
        _ coefficients: UnsafePointer<Int16>, quant: UnsafePointer<Int32>, out: UnsafeMutablePointer<UInt8>, stride: Int, quarter: Bool
    ) {
        let q = UnsafeRawPointer(quant)
        @inline(__always) func row(_ r: Int) -> Row {
            if quarter && r >= 4 { return Row() }
            // Lane by lane: the generic widening initialiser was left as a call here.
            let p = coefficients + 8 * r
            let widened = Row(Int32(p[0]), Int32(p[1]), Int32(p[2]), Int32(p[3]), Int32(p[4]), Int32(p[5]), Int32(p[6]), Int32(p[7]))
            return widened &* q.loadUnaligned(fromByteOffset: r * 32, as: Row.self)
        }
        // Columns first: each vector is a row of coefficients, lanes are the columns.
        var x = (row(0), row(1), row(2), row(3), row(4), row(5), row(6), row(7))
        pass(&x, round: 1 << 10, shift: 11)
        // Then the rows: lanes are now the rows. The range centre (128) and the rounding of the
        // final descale ride on the DC term, as libjpeg does.
        var y = transpose(x)
        if quarter { y = (y.0, y.1, y.2, y.3, Row(), Row(), Row(), Row()) }
        y.0 &+= Row(repeating: (128 << 5) + (1 << 4))
        pass(&y, round: 0, shift: 18)
        // y.c holds output column c, lane r its row r: back to rows, clamped to bytes.
        let rows = transpose(y)
        @inline(__always) func store(_ v: Row, _ r: Int) {
            let b = byteClamped(v)
            let bytes = SIMD8<UInt8>(
                UInt8(truncatingIfNeeded: b[0]), UInt8(truncatingIfNeeded: b[1]), UInt8(truncatingIfNeeded: b[2]), UInt8(truncatingIfNeeded: b[3]),
                UInt8(truncatingIfNeeded: b[4]), UInt8(truncatingIfNeeded: b[5]), UInt8(truncatingIfNeeded: b[6]), UInt8(truncatingIfNeeded: b[7]))
            UnsafeMutableRawPointer(out + r * stride).storeBytes(of: bytes, as: SIMD8<UInt8>.self)
        }
        store(rows.0, 0); store(rows.1, 1); store(rows.2, 2); store(rows.3, 3)
        store(rows.4, 4); store(rows.5, 5); store(rows.6, 6); store(rows.7, 7)
    }
}

extension JPEGDecoder {
    /// The decoded image: every component's samples, upsampled to full size and converted to
    /// RGB (or kept gray), then turned by the EXIF orientation.
    func pixels() throws -> Image {
        let channels = try outputChannels()
        if channels == 3 {
            for c in components where maxHorizontal % c.horizontal != 0 || maxVertical % c.vertical != 0 {
                throw DataError(source, "unsupported JPEG: fractional chroma sampling (\(c.horizontal)x\(c.vertical) of \(maxHorizontal)x\(maxVertical))")
            }
        }
        if progressive { inverseDCT() }
        let (width, height) = (self.width, self.height)
        let pixels = [UInt8](unsafeUninitializedCapacity: width * height * channels) { out, initialized in
            let out = out.baseAddress!
            if channels == 1 {
                for y in 0..<height { (out + y * width).update(from: planes[0].pointer + y * planes[0].width, count: width) }
            } else {
                colour(into: out)
            }
            initialized = width * height * channels
        }
        return withExtendedLifetime(planes) { Image(width: width, height: height, channels: channels, pixels: pixels).oriented(exif: orientation) }
    }

    /// A progressive JPEG's kept coefficients through the inverse DCT into the planes.
    private func inverseDCT() {
        for (c, component) in components.enumerated() {
            let plane = planes[c], blocks = coefficients[c].pointer, masks = coefficients[c].nonZero
            let quant = component.quant ?? [Int32](repeating: 0, count: 64)  // a component no scan reached stays flat
            quant.withUnsafeBufferPointer { q in
                for by in 0..<(mcusHigh * component.vertical) {
                    for bx in 0..<component.stride {
                        let index = by * component.stride + bx
                        // The non-zero mask has a bit per AC coefficient (zig-zag order).
                        JPEGInverseDCT.block(
                            blocks + index * 64, quant: q.baseAddress!, out: plane.pointer + by * 8 * plane.width + bx * 8, stride: plane.width,
                            last: 63 - min(63, masks[index].leadingZeroBitCount))
                    }
                }
            }
            withExtendedLifetime(coefficients[c]) {}
        }
    }

    /// The three components, upsampled row by row, into interleaved RGB at `out`: YCbCr
    /// converted with libjpeg-turbo's fixed-point arithmetic (the same integers as its tables),
    /// sixteen pixels at a time, or RGB copied as it is.
    private func colour(into out: UnsafeMutablePointer<UInt8>) {
        let rgb = isRGB
        // Rows of the upsampled components (unused for a full-size one, read in its plane), and
        // the column sums the triangle filters work from, with room for a vector past the end.
        let rowLength = components.map { $0.stride * 8 * (maxHorizontal / $0.horizontal) }.max()! + 64
        let rows = UnsafeMutablePointer<UInt8>.allocate(capacity: 3 * rowLength)
        rows.initialize(repeating: 0, count: 3 * rowLength)
        let sums = UnsafeMutablePointer<Int16>.allocate(capacity: rowLength)
        sums.initialize(repeating: 0, count: rowLength)
        defer {
            rows.deallocate()
            sums.deallocate()
        }
        let width = self.width
        for y in 0..<height {
            let y0 = upsampledRow(y, component: 0, scratch: rows, sums: sums)
            let y1 = upsampledRow(y, component: 1, scratch: rows + rowLength, sums: sums)
            let y2 = upsampledRow(y, component: 2, scratch: rows + 2 * rowLength, sums: sums)
            let o = out + y * width * 3
            if rgb {
                for x in 0..<width { o[3 * x] = y0[x]; o[3 * x + 1] = y1[x]; o[3 * x + 2] = y2[x] }
                continue
            }
            var x = 0
            while x < width {
                typealias Lanes = SIMD8<Int32>
                // Lane by lane: the generic widening initialiser was left as a call here.
                @inline(__always) func load(_ p: UnsafePointer<UInt8>) -> Lanes {
                    let q = p + x
                    return Lanes(Int32(q[0]), Int32(q[1]), Int32(q[2]), Int32(q[3]), Int32(q[4]), Int32(q[5]), Int32(q[6]), Int32(q[7]))
                }
                let l = load(y0), cb = load(y1) &- 128, cr = load(y2) &- 128
                let half = Lanes(repeating: 32768), byte = Lanes(repeating: 255)
                let r = JPEGInverseDCT.byteClamped(l &+ ((cr &* 91881 &+ half) &>> 16)) & byte
                let g = JPEGInverseDCT.byteClamped(l &+ ((cr &* -46802 &+ cb &* -22554 &+ half) &>> 16)) & byte
                let b = JPEGInverseDCT.byteClamped(l &+ ((cb &* 116130 &+ half) &>> 16)) & byte
                // Eight pixels as RGBX words, then each half's four squeezed to twelve bytes.
                let words = unsafeBitCast(r | g &<< 8 | b &<< 16, to: SIMD32<UInt8>.self)
                @inline(__always) func squeezed(_ v: SIMD16<UInt8>) -> SIMD16<UInt8> {
                    SIMD16(v[0], v[1], v[2], v[4], v[5], v[6], v[8], v[9], v[10], v[12], v[13], v[14], 0, 0, 0, 0)
                }
                let p = o + 3 * x
                if x + 10 <= width {
                    // Sixteen-byte stores twelve apart: each one's last four bytes belong to the
                    // next pixels, which are written after it (a later chunk or the next row).
                    UnsafeMutableRawPointer(p).storeBytes(of: squeezed(words.lowHalf), as: SIMD16<UInt8>.self)
                    UnsafeMutableRawPointer(p + 12).storeBytes(of: squeezed(words.highHalf), as: SIMD16<UInt8>.self)
                } else {
                    for j in 0..<min(8, width - x) {
                        p[3 * j] = words[4 * j]
                        p[3 * j + 1] = words[4 * j + 1]
                        p[3 * j + 2] = words[4 * j + 2]
                    }
                }
                x += 8
            }
        }
    }

    /// Whether three components are RGB rather than YCbCr, by libjpeg's rules (JFIF means YCbCr;
    /// else an Adobe marker's transform flag; else component ids 'R', 'G', 'B').
    private var isRGB: Bool {
        if sawJFIF { return false }
        if let adobeTransform { return adobeTransform == 0 }
        return components.map(\.id) == [82, 71, 66]
    }

    /// Row `y` of the full-size image's samples of component `c`, upsampled as libjpeg-turbo
    /// does (the triangle filter for 2×1, 1×2 and 2×2 subsampling, replication otherwise) into
    /// `scratch`, or read in place when the component is full size. Readable 16 samples past the
    /// image's width.
    private func upsampledRow(_ y: Int, component c: Int, scratch out: UnsafeMutablePointer<UInt8>, sums: UnsafeMutablePointer<Int16>) -> UnsafePointer<UInt8> {
        let component = components[c], plane = planes[c]
        let hf = maxHorizontal / component.horizontal, vf = maxVertical / component.vertical
        let n = component.width
        let cy = y / vf
        let this = UnsafePointer(plane.pointer + cy * plane.width)
        if hf == 1 && vf == 1 { return this }
        // libjpeg replicates the first and last real rows as the rows above and below the image.
        let near = vf == 2 ? min(max(y % 2 == 0 ? cy - 1 : cy + 1, 0), component.height - 1) : cy
        let other = UnsafePointer(plane.pointer + near * plane.width)
        typealias Lanes = SIMD16<Int16>
        @inline(__always) func load(_ p: UnsafePointer<UInt8>, _ i: Int) -> Lanes {
            // Lane by lane: the generic widening initialiser was left as a call here.
            let q = p + i
            return Lanes(
                Int16(q[0]), Int16(q[1]), Int16(q[2]), Int16(q[3]), Int16(q[4]), Int16(q[5]), Int16(q[6]), Int16(q[7]),
                Int16(q[8]), Int16(q[9]), Int16(q[10]), Int16(q[11]), Int16(q[12]), Int16(q[13]), Int16(q[14]), Int16(q[15]))
        }
        @inline(__always) func sum(_ i: Int) -> Lanes { UnsafeRawPointer(sums + i).loadUnaligned(as: Lanes.self) }
        /// Widens a row of samples (weighted 3 to 1 with the nearer row when `vertical`) into
        /// `sums[1...n]`, the end values repeated at `sums[0]` and `sums[n + 1]`.
        @inline(__always) func columnSums(vertical: Bool) {
            for i in stride(from: 0, to: n, by: 16) {
                let s = vertical ? load(this, i) &* 3 &+ load(other, i) : load(this, i)
                UnsafeMutableRawPointer(sums + 1 + i).storeBytes(of: s, as: Lanes.self)
            }
            sums[0] = sums[1]
            sums[n + 1] = sums[n]
        }
        /// From `sums`: `out[2i] = (3 s[i] + s[i-1] + evenBias) >> shift`, `out[2i+1]` with `s[i+1]` and `oddBias`.
        @inline(__always) func widen(evenBias: Int16, oddBias: Int16, shift: Int16) {
            for i in stride(from: 0, to: n, by: 16) {
                let current = sum(1 + i) &* 3
                let even = (current &+ sum(i) &+ evenBias) &>> shift, odd = (current &+ sum(2 + i) &+ oddBias) &>> shift
                // Little-endian: each 16-bit lane stores its even sample, then its odd one.
                let pair = unsafeBitCast(even, to: SIMD16<UInt16>.self) | unsafeBitCast(odd, to: SIMD16<UInt16>.self) &<< 8
                UnsafeMutableRawPointer(out + 2 * i).storeBytes(of: pair, as: SIMD16<UInt16>.self)
            }
        }
        switch (hf, vf) {
        case (2, 1) where n > 2:
            columnSums(vertical: false)
            widen(evenBias: 1, oddBias: 2, shift: 2)
        case (2, 2) where n > 2:
            columnSums(vertical: true)
            widen(evenBias: 8, oddBias: 7, shift: 4)
        case (1, 2) where n > 2:
            let bias = Lanes(repeating: y % 2 == 0 ? 1 : 2)
            for i in stride(from: 0, to: n, by: 16) {
                let v = (load(this, i) &* 3 &+ load(other, i) &+ bias) &>> 2
                // Every lane is in 0...255: the low byte of each (little-endian) is the sample.
                UnsafeMutableRawPointer(out + i).storeBytes(of: unsafeBitCast(v, to: SIMD32<UInt8>.self).evenHalf, as: SIMD16<UInt8>.self)
            }
        default:
            for x in 0..<(plane.width * hf) { out[x] = this[x / hf] }
        }
        return UnsafePointer(out)
    }
}

extension Image {
    /// The image turned upright by an EXIF orientation (1 upright, 2 mirrored, 3 rotated 180°,
    /// 4 flipped, 5 transposed, 6 needing 90° clockwise, 7 transversed, 8 needing 90°
    /// counter-clockwise), as PIL's `ImageOps.exif_transpose`.
    public func oriented(exif orientation: Int) -> Image {
        guard (2...8).contains(orientation) else { return self }
        let (w, h) = (width, height)
        let swaps = orientation >= 5
        let (ow, oh) = swaps ? (h, w) : (w, h)
        var out = [UInt8](repeating: 0, count: pixels.count)
        for y in 0..<oh {
            for x in 0..<ow {
                let (sx, sy): (Int, Int)
                switch orientation {
                case 2: (sx, sy) = (w - 1 - x, y)
                case 3: (sx, sy) = (w - 1 - x, h - 1 - y)
                case 4: (sx, sy) = (x, h - 1 - y)
                case 5: (sx, sy) = (y, x)
                case 6: (sx, sy) = (y, h - 1 - x)
                case 7: (sx, sy) = (w - 1 - y, h - 1 - x)
                default: (sx, sy) = (w - 1 - y, x)
                }
                for k in 0..<channels { out[(y * ow + x) * channels + k] = pixels[(sy * w + sx) * channels + k] }
            }
        }
        return Image(width: ow, height: oh, channels: channels, pixels: out)
    }
}
