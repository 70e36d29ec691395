import Tensors

/// A transform of a whole batch of images `[N, C, H, W]` (fastai's `batch_tfms`), run as each
/// batch is made (on the prefetching thread). Augmentations act on the training split only;
/// `Normalize` on both, and `decode` undoes it for display.
public protocol BatchTransform: Sendable {
    /// The transformed batch. `random` is the batch's generator on the training split, nil on
    /// the validation split.
    func apply(_ batch: Tensor, random: RandomGenerator?) -> Tensor
    /// The batch as it was before `apply`, where that can be undone (for `showBatch`).
    func decode(_ batch: Tensor) -> Tensor
    /// Throws when the transform cannot apply to images of `channels` channels (checked when
    /// the loaders are made, before training).
    func check(channels: Int) throws
    /// The transformed batch and its targets: targets that are positions in the images
    /// (`geometry` `.points` or `.mask`) move as the pixels do; others stay as they are. By
    /// default the targets are untouched (a change of colour moves nothing).
    func apply(_ batch: Tensor, targets: Tensor, geometry: TargetGeometry, random: RandomGenerator?) -> (Tensor, Tensor)
}

extension BatchTransform {
    public func decode(_ batch: Tensor) -> Tensor { batch }
    public func check(channels: Int) throws {}
    public func apply(_ batch: Tensor, targets: Tensor, geometry: TargetGeometry, random: RandomGenerator?) -> (Tensor, Tensor) {
        (apply(batch, random: random), targets)
    }
}

/// How a batch's targets relate to its images, for the transforms that move pixels.
public enum TargetGeometry: Sendable {
    /// Targets that do not depend on where things are (classes, label sets, values).
    case none
    /// `[N, K, 2]` points `(x, y)` scaled to -1...1 across each image (fastai's `TensorPoint`).
    case points
    /// `[N, H, W]` masks of class codes, one per image (fastai's `TensorMask`).
    case mask
}
