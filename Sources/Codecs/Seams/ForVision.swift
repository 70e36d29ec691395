// What Codecs offers the Vision application, and only it: a file's bytes with the error the
// decoders give, and an image's bytes as the planes a batch is gathered from (what
// `Image.tensor(channels:)` scales to 0...1).
//
// Client: Vision.

import Foundation

extension Image {
    /// A file's bytes; a `DataError` naming it when it cannot be read.
    package static func readFile(_ file: URL) throws -> [UInt8] { try fileBytes(file) }

    /// The image's bytes as `[C, H, W]` planes (1 channel, or 3 with gray repeated; alpha dropped).
    package func planes(channels wanted: Int? = nil) -> (bytes: [UInt8], shape: [Int]) { planeBytes(channels: wanted) }
}
