import DataBlocks
import Foundation

extension BundledData {
    /// The Titanic's 1,309 passengers (`survived` yes/no, `sex`, `age` with 263 missing,
    /// `passengerClass` 1st/2nd/3rd), as the R package carData's `TitanicSurvival` (GPL-2 | GPL-3)
    /// holds them, compiled by Frank Harrell and Thomas Cason from the Encyclopedia Titanica;
    /// written out by `Tests/Fixtures/make_tabular_sample.sh`. A CSV file with a header row.
    public static var titanic: URL {
        guard let url = Bundle.module.url(forResource: "tabular_sample/titanic", withExtension: "csv") else {
            fatalError("BundledData.titanic: the resource tabular_sample/titanic.csv is missing from FastSwift's bundle")
        }
        return url
    }
}
