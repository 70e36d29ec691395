import DataBlocks
import Foundation

extension BundledData {
    /// 1,200 paragraphs of Jane Austen labelled by their novel, *Sense & Sensibility* or *Pride
    /// & Prejudice* (600 each, 20 to 160 words), about a fifth marked `is_valid`: the folder
    /// holding `texts.csv` (`text,label,is_valid`). Made by `Benchmarks/make_text_sample.py` from
    /// the R package janeaustenr (MIT licence; the novels are in the public domain, from Project
    /// Gutenberg). For `TextDataLoaders.fromCSV` and the `text-lm` and `text-classifier` recipes.
    public static var austen: URL {
        guard let url = Bundle.module.url(forResource: "text_sample/texts", withExtension: "csv") else {
            fatalError("BundledData.austen: the resource text_sample/texts.csv is missing from FastSwift's bundle")
        }
        return url.deletingLastPathComponent()
    }
}
