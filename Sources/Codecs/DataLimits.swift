import Synchronization
import Tensors

/// The sizes every decoder checks, with overflow-checked arithmetic, before it allocates: a
/// corrupt or hostile file (a gzip bomb, a PNG header declaring 60000×60000 pixels) is refused
/// with a `DataError` instead of exhausting memory. Raise them for unusually large data.
public enum DataLimits {
    private static let values = Mutex((decompressedBytes: 1 << 30, pixels: 1 << 28, imageCacheBytes: 2 << 30))

    /// The most bytes one file may decompress to (a gzip file, a PNG's image data): 1 GiB by default.
    public static var decompressedBytes: Int {
        get { values.withLock { $0.decompressedBytes } }
        set { values.withLock { $0.decompressedBytes = newValue } }
    }

    /// The most pixels one image may declare: 256 megapixels by default.
    public static var pixels: Int {
        get { values.withLock { $0.pixels } }
        set { values.withLock { $0.pixels = newValue } }
    }

    /// The most bytes a dataset's decoded images are kept in memory for: above it, the loaders
    /// keep the files' bytes and decode each image again as batches are made. 2 GiB by default.
    public static var imageCacheBytes: Int {
        get { values.withLock { $0.imageCacheBytes } }
        set { values.withLock { $0.imageCacheBytes = newValue } }
    }
}
