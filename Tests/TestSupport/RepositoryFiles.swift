import Foundation

/// Files of this repository that tests of the lower targets read in place (the bundled samples
/// belong to the Vision target, which those tests do not import).
public enum RepositoryFiles {
    /// The repository's root folder.
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The bundled MNIST sample's folder (`BundledData.mnist` in Vision).
    public static let mnistSample = root.appendingPathComponent("Sources/Vision/Resources/mnist_sample")

    /// The image fixtures of `Tests/Fixtures/make_image_fixtures.py` (JPEGs with their reference
    /// decodes, and PIL's resizes).
    public static let imageFixtures = root.appendingPathComponent("Tests/CodecsTests/ImageFixtures")

    /// The fuzz targets' seed and regression corpora, one folder per target (`Tests/Fuzz/run.sh`).
    public static let fuzzCorpora = root.appendingPathComponent("Tests/Fuzz/corpus")
}
