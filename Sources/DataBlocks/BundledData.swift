import Foundation

/// Data that ships inside FastSwift, so that recipes and tests run offline on a fresh clone.
public enum BundledData {
    /// A small real MNIST sample in fastai's `mnist_png` layout: `training/0...9` (300 digits
    /// each) and `testing/0...9` (100 each), 28×28 grayscale PNGs taken unchanged from the
    /// MNIST database (LeCun, Cortes, Burges; CC BY-SA 3.0).
    public static var mnist: URL {
        guard let url = Bundle.module.url(forResource: "mnist_sample", withExtension: nil) else {
            fatalError("BundledData.mnist: the resource folder mnist_sample is missing from FastSwift's bundle")
        }
        return url
    }
}
