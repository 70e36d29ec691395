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
}

extension BatchTransform {
    public func decode(_ batch: Tensor) -> Tensor { batch }
    public func check(channels: Int) throws {}
}
