import Tensors
import DataBlocks
import Codecs
import Foundation

extension BundledData {
    /// A small real MNIST sample in fastai's `mnist_png` layout: `training/0...9` (300 digits
    /// each) and `testing/0...9` (100 each), 28×28 grayscale PNGs taken unchanged from the
    /// MNIST database (LeCun, Cortes, Burges; CC BY-SA 3.0).
    public static var mnist: URL {
        guard let url = Bundle.module.url(forResource: "mnist_sample", withExtension: nil) else {
            fatalError("BundledData.mnist: the resource folder mnist_sample is missing from FastSwift's bundle")
        }
        return url
    }

    /// A small photo folder in fastai's pets style: 96 photos of four classes (`cat`, `coffee`,
    /// `astronaut`, `rocket`; the label starts the file name, as `cat_007.jpg`), of mixed sizes
    /// (40 to 96 pixels on the longer side) and formats (baseline and progressive JPEG, 4:2:0 and
    /// 4:4:4, grayscale JPEG, PNG). Random crops of public-domain and CC0 photographs that
    /// scikit-image ships (Chelsea the cat and the coffee cup, CC0 by Stefan van der Walt and
    /// Rachel Michetti; Eileen Collins by NASA and a SpaceX rocket, public domain).
    public static var photos: URL {
        guard let url = Bundle.module.url(forResource: "photos_sample", withExtension: nil) else {
            fatalError("BundledData.photos: the resource folder photos_sample is missing from FastSwift's bundle")
        }
        return url
    }
}

extension BundledData {
    /// A small multi-label sample in fastai's PASCAL style: 1,000 scenes of 56×56 grayscale (800
    /// for training, 200 for validation), each a 2×2 grid of cells holding one to three MNIST
    /// digits, listed in `labels.csv` (`fname,labels,is_valid`; labels the digit classes shown,
    /// sorted, separated by a space) with the PNGs in `images/`. Made from the `mnist` sample's
    /// real pixels (training scenes from its training digits, validation scenes from its testing
    /// digits) by `Benchmarks/make_digit_scenes.py`; MNIST by LeCun, Cortes and Burges, CC BY-SA 3.0.
    public static var digitScenes: URL {
        guard let url = Bundle.module.url(forResource: "digit_scenes", withExtension: nil) else {
            fatalError("BundledData.digitScenes: the resource folder digit_scenes is missing from FastSwift's bundle")
        }
        return url
    }
}
