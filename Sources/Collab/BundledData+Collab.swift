import DataBlocks
import Foundation

extension BundledData {
    /// 15,000 ratings (`user`, `movie`, `rating` 1–5) of 300 users and 200 movies, made by a
    /// known low-rank model (5 latent factors, a bias per user and per movie, rounded as star
    /// ratings are) by `Tests/Fixtures/make_collab_sample.py`: MovieLens itself cannot be
    /// downloaded here. A movie is named by its number and its true bias (`m17 (+0.84)`), so
    /// what `collabLearner` learns can be checked by eye. A CSV file with a header row.
    public static var ratings: URL {
        guard let url = Bundle.module.url(forResource: "collab_sample/ratings", withExtension: "csv") else {
            fatalError("BundledData.ratings: the resource collab_sample/ratings.csv is missing from FastSwift's bundle")
        }
        return url
    }
}
