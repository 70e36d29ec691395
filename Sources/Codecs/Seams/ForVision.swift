// What Codecs offers the Vision application, and only it: an image's bytes as the planes a
// batch is gathered from (what `Image.tensor(channels:)` scales to 0...1).
//
// Client: Vision.

import Foundation

extension Image {
    /// The image's bytes as `[C, H, W]` planes (1 channel, or 3 with gray repeated; alpha dropped).
    package func planes(channels wanted: Int? = nil) -> (bytes: [UInt8], shape: [Int]) { planeBytes(channels: wanted) }
}
