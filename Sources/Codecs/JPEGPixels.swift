import Tensors

// From a JPEG's coefficients to pixels, as libjpeg-turbo does by default (so the output matches
// `djpeg` and PIL): the accurate integer inverse DCT (`islow`), "fancy" triangle-filter chroma
// upsampling, and table-driven YCbCr → RGB conversion; then the EXIF orientation.

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

    /// Dequantises one block (natural order) and writes its 8×8 samples at `out` (rows `stride` apart).
    @inline(__always)
    static func block(_ coefficients: UnsafePointer<Int16>, quant: UnsafePointer<Int32>, out: UnsafeMutablePointer<UInt8>, stride: Int) {
        var acZero = true
        for k in 1..<64 where coefficients[k] != 0 { acZero = false; break }
        if acZero {
            // Both passes of a DC-only block give one value (the same arithmetic, shortened).
            let dc = Int32(coefficients[0]) &* quant[0]
            let v = UInt8(clamping: ((dc &<< 2) &+ 4112) &>> 5)
            for r in 0..<8 { (out + r * stride).initialize(repeating: v, count: 8) }
            return
        }
        @inline(__always) func row(_ r: Int) -> Row {
            var v = Row()
            for c in 0..<8 { v[c] = Int32(coefficients[r * 8 + c]) &* quant[r * 8 + c] }
            return v
        }
        // Columns first: each vector is a row of coefficients, lanes are the columns.
        var x = (row(0), row(1), row(2), row(3), row(4), row(5), row(6), row(7))
        pass(&x, round: 1 << 10, shift: 11)
        // Transpose (through a stack buffer), then the rows: lanes are now the rows. The range
        // centre (128) and the rounding of the final descale ride on the DC term, as libjpeg does.
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 64) { buffer in
            let w = buffer.baseAddress!, raw = UnsafeMutableRawPointer(w)
            // Vectors go in with raw stores: the memory is bound to Int32, read back as scalars.
            @inline(__always) func store(_ rows: (Row, Row, Row, Row, Row, Row, Row, Row)) {
                raw.storeBytes(of: rows.0, toByteOffset: 0, as: Row.self); raw.storeBytes(of: rows.1, toByteOffset: 32, as: Row.self)
                raw.storeBytes(of: rows.2, toByteOffset: 64, as: Row.self); raw.storeBytes(of: rows.3, toByteOffset: 96, as: Row.self)
                raw.storeBytes(of: rows.4, toByteOffset: 128, as: Row.self); raw.storeBytes(of: rows.5, toByteOffset: 160, as: Row.self)
                raw.storeBytes(of: rows.6, toByteOffset: 192, as: Row.self); raw.storeBytes(of: rows.7, toByteOffset: 224, as: Row.self)
            }
            store(x)
            @inline(__always) func column(_ c: Int) -> Row { Row(w[c], w[8 + c], w[16 + c], w[24 + c], w[32 + c], w[40 + c], w[48 + c], w[56 + c]) }
            var y = (column(0) &+ Row(repeating: (128 << 5) + (1 << 4)), column(1), column(2), column(3), column(4), column(5), column(6), column(7))
            pass(&y, round: 0, shift: 18)
            // y.c holds output column c, lane r its row r.
            store(y)
            for r in 0..<8 {
                let line = out + r * stride
                for c in 0..<8 { line[c] = UInt8(clamping: w[c * 8 + r]) }
            }
        }
    }
}

/// libjpeg-turbo's YCbCr → RGB tables (16-bit fixed point, rounded).
private enum YCbCrTables {
    static let crToR: [Int32] = (0..<256).map { (Int32(91881) * Int32($0 - 128) + 32768) >> 16 }
    static let cbToB: [Int32] = (0..<256).map { (Int32(116130) * Int32($0 - 128) + 32768) >> 16 }
    static let crToG: [Int32] = (0..<256).map { -Int32(46802) * Int32($0 - 128) }
    static let cbToG: [Int32] = (0..<256).map { -Int32(22554) * Int32($0 - 128) + 32768 }
}

extension JPEGDecoder {
    /// The decoded image: every component's samples, upsampled to full size and converted to
    /// RGB (or kept gray), then turned by the EXIF orientation.
    func pixels() throws -> Image {
        let channels = try outputChannels()
        var planes: [[UInt8]] = []
        for (c, component) in components.enumerated() {
            let planeWidth = component.stride * 8, planeHeight = mcusHigh * component.vertical * 8
            var plane = [UInt8](repeating: 0, count: planeWidth * planeHeight)
            let quant = component.quant ?? [Int32](repeating: 0, count: 64)  // a component no scan reached stays flat
            plane.withUnsafeMutableBufferPointer { out in
                quant.withUnsafeBufferPointer { q in
                    let blocksHigh = mcusHigh * component.vertical
                    for by in 0..<blocksHigh {
                        for bx in 0..<component.stride {
                            JPEGInverseDCT.block(
                                coefficients[c].pointer + (by * component.stride + bx) * 64, quant: q.baseAddress!,
                                out: out.baseAddress! + by * 8 * planeWidth + bx * 8, stride: planeWidth)
                        }
                    }
                }
            }
            planes.append(plane)
        }
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        if channels == 1 {
            let planeWidth = components[0].stride * 8
            for y in 0..<height { for x in 0..<width { pixels[y * width + x] = planes[0][y * planeWidth + x] } }
        } else {
            for c in components where maxHorizontal % c.horizontal != 0 || maxVertical % c.vertical != 0 {
                throw DataError(source, "unsupported JPEG: fractional chroma sampling (\(c.horizontal)x\(c.vertical) of \(maxHorizontal)x\(maxVertical))")
            }
            let rgb = isRGB
            var rows = components.map { [UInt8](repeating: 0, count: $0.stride * 8 * (maxHorizontal / $0.horizontal)) }
            pixels.withUnsafeMutableBufferPointer { out in
                for y in 0..<height {
                    for c in 0..<3 { upsampleRow(y, component: components[c], plane: planes[c], into: &rows[c]) }
                    let o = out.baseAddress! + y * width * 3
                    if rgb {
                        for x in 0..<width { o[3 * x] = rows[0][x]; o[3 * x + 1] = rows[1][x]; o[3 * x + 2] = rows[2][x] }
                    } else {
                        YCbCrTables.crToR.withUnsafeBufferPointer { crR in
                            YCbCrTables.cbToB.withUnsafeBufferPointer { cbB in
                                YCbCrTables.crToG.withUnsafeBufferPointer { crG in
                                    YCbCrTables.cbToG.withUnsafeBufferPointer { cbG in
                                        rows[0].withUnsafeBufferPointer { luma in
                                            rows[1].withUnsafeBufferPointer { cb in
                                                rows[2].withUnsafeBufferPointer { cr in
                                                    for x in 0..<width {
                                                        let l = Int32(luma[x]), b = Int(cb[x]), r = Int(cr[x])
                                                        o[3 * x] = UInt8(clamping: l + crR[r])
                                                        o[3 * x + 1] = UInt8(clamping: l + ((cbG[b] + crG[r]) >> 16))
                                                        o[3 * x + 2] = UInt8(clamping: l + cbB[b])
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return Image(width: width, height: height, channels: channels, pixels: pixels).oriented(exif: orientation)
    }

    /// Whether three components are RGB rather than YCbCr, by libjpeg's rules (JFIF means YCbCr;
    /// else an Adobe marker's transform flag; else component ids 'R', 'G', 'B').
    private var isRGB: Bool {
        if sawJFIF { return false }
        if let adobeTransform { return adobeTransform == 0 }
        return components.map(\.id) == [82, 71, 66]
    }

    /// Row `y` of the full-size image's samples of `component`, upsampled as libjpeg-turbo does:
    /// the triangle filter for 2×1, 1×2 and 2×2 subsampling, replication otherwise.
    private func upsampleRow(_ y: Int, component: Component, plane: [UInt8], into row: inout [UInt8]) {
        let hf = maxHorizontal / component.horizontal, vf = maxVertical / component.vertical
        let planeWidth = component.stride * 8, n = component.width
        let cy = y / vf
        // libjpeg replicates the first and last real rows as the rows above and below the image.
        let near = vf == 2 ? min(max(y % 2 == 0 ? cy - 1 : cy + 1, 0), component.height - 1) : cy
        plane.withUnsafeBufferPointer { p in
            row.withUnsafeMutableBufferPointer { out in
                let this = p.baseAddress! + cy * planeWidth, other = p.baseAddress! + near * planeWidth
                switch (hf, vf) {
                case (1, 1):
                    out.baseAddress!.update(from: this, count: planeWidth)
                case (2, 1) where n > 2:
                    out[0] = this[0]
                    out[1] = UInt8((3 * Int(this[0]) + Int(this[1]) + 2) >> 2)
                    for i in 1..<(n - 1) {
                        let t = 3 * Int(this[i])
                        out[2 * i] = UInt8((t + Int(this[i - 1]) + 1) >> 2)
                        out[2 * i + 1] = UInt8((t + Int(this[i + 1]) + 2) >> 2)
                    }
                    out[2 * n - 2] = UInt8((3 * Int(this[n - 1]) + Int(this[n - 2]) + 1) >> 2)
                    out[2 * n - 1] = this[n - 1]
                case (1, 2) where n > 2:
                    let bias = y % 2 == 0 ? 1 : 2
                    for i in 0..<n { out[i] = UInt8((3 * Int(this[i]) + Int(other[i]) + bias) >> 2) }
                case (2, 2) where n > 2:
                    @inline(__always) func sum(_ i: Int) -> Int { 3 * Int(this[i]) + Int(other[i]) }
                    out[0] = UInt8((sum(0) * 4 + 8) >> 4)
                    out[1] = UInt8((sum(0) * 3 + sum(1) + 7) >> 4)
                    var last = sum(0), current = sum(1)
                    for i in 1..<(n - 1) {
                        let next = sum(i + 1)
                        out[2 * i] = UInt8((3 * current + last + 8) >> 4)
                        out[2 * i + 1] = UInt8((3 * current + next + 7) >> 4)
                        last = current
                        current = next
                    }
                    out[2 * n - 2] = UInt8((3 * current + last + 8) >> 4)
                    out[2 * n - 1] = UInt8((current * 4 + 7) >> 4)
                default:
                    for x in 0..<(planeWidth * hf) { out[x] = this[x / hf] }
                }
            }
        }
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
