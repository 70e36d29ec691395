import Tensors

/// The IDX format of the original MNIST files (`train-images-idx3-ubyte`, ...): a magic number
/// giving the element type and rank, the sizes (big-endian), then the data. Unsigned bytes only.
public enum IDX {
    /// The sizes and the unsigned-byte elements of an IDX file (gzip-compressed or not).
    public static func read(_ bytes: [UInt8], source: String) throws -> (shape: [Int], values: [UInt8]) {
        let raw = bytes.starts(with: [0x1F, 0x8B]) ? try GZip.decompress(bytes, source: source) : bytes
        var reader = ByteReader(raw, source: source)
        guard try reader.byte("the IDX magic number") == 0, try reader.byte("the IDX magic number") == 0 else {
            throw DataError(source, "not an IDX file (the magic number must start with two zero bytes)")
        }
        let type = try reader.byte("the IDX magic number")
        guard type == 0x08 else { throw DataError(source, "unsupported IDX element type 0x\(String(type, radix: 16)) (only unsigned bytes, 0x08)") }
        let rank = Int(try reader.byte("the IDX magic number"))
        guard rank >= 1 && rank <= 4 else { throw DataError(source, "unsupported IDX rank \(rank)") }
        var shape: [Int] = []
        for d in 0..<rank { shape.append(Int(try reader.uint32BigEndian("size \(d) of the IDX header"))) }
        guard let count = checkedProduct(shape) else {
            throw DataError(source, "the IDX header declares sizes \(shape) whose product is too large to address")
        }
        guard count == reader.remaining else {
            throw DataError(source, "the IDX header declares \(shape) = \(count) values but the file holds \(reader.remaining)")
        }
        return (shape, Array(try reader.take(count, "the IDX data")))
    }

    /// MNIST-style images (`[n, 28, 28]` bytes) as a `[n, 1, 28, 28]` tensor in 0...1.
    public static func images(_ bytes: [UInt8], source: String) throws -> Tensor {
        let (shape, values) = try read(bytes, source: source)
        guard shape.count == 3 else { throw DataError(source, "expected images [n, height, width], got IDX shape \(shape)") }
        return Tensor(pixels: values, shape: [shape[0], 1, shape[1], shape[2]])
    }

    /// MNIST-style labels (`[n]` bytes) as a tensor of class indices.
    public static func labels(_ bytes: [UInt8], source: String) throws -> Tensor {
        let (shape, values) = try read(bytes, source: source)
        guard shape.count == 1 else { throw DataError(source, "expected labels [n], got IDX shape \(shape)") }
        return Tensor(values.map(Float.init))
    }
}
