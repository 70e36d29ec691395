#!/usr/bin/env python3
"""Makes a labelled text set from Jane Austen's six novels: the paragraphs of at least --min-words
words (up to --max-words), each labelled by its novel, a share marked `is_valid` at random
(seeded), written as `texts.csv` (`text,label,is_valid`) in --out.

The novels come from the R package janeaustenr (Debian's `r-cran-janeaustenr`; MIT licence; the
texts themselves are in the public domain, from Project Gutenberg), read through `Rscript`.

    apt-get install r-cran-janeaustenr
    python3 Benchmarks/make_text_sample.py                       # the bundled sample (defaults)
    python3 Benchmarks/make_text_sample.py --books all --per-book 0 --max-words 100000 --out /tmp/austen
        # every paragraph of 20 words or more of all six novels (7,690), for the comparison with fastai
"""
import argparse
import csv
import io
import os
import random
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
BUNDLED = os.path.join(HERE, "..", "Sources", "Text", "Resources", "text_sample")
BOOKS = ["Sense & Sensibility", "Pride & Prejudice", "Mansfield Park", "Emma", "Northanger Abbey", "Persuasion"]


def paragraphs():
    lines = subprocess.run(
        ["Rscript", "-e", 'library(janeaustenr); write.csv(austen_books(), stdout(), row.names=FALSE)'],
        check=True, capture_output=True, text=True, encoding="utf-8").stdout
    out, current, book = [], [], None
    for row in csv.DictReader(io.StringIO(lines)):
        text = row["text"].strip()
        if row["book"] != book:
            if current:
                out.append((book, " ".join(current)))
            current, book = [], row["book"]
        if text:
            current.append(text)
        elif current:
            out.append((book, " ".join(current)))
            current = []
    if current:
        out.append((book, " ".join(current)))
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=BUNDLED)
    parser.add_argument("--books", default="Sense & Sensibility,Pride & Prejudice",
                        help="comma-separated titles, or 'all'")
    parser.add_argument("--min-words", type=int, default=20)
    parser.add_argument("--max-words", type=int, default=160)
    parser.add_argument("--per-book", type=int, default=600, help="paragraphs per novel (0: all)")
    parser.add_argument("--valid-pct", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    books = BOOKS if args.books == "all" else args.books.split(",")
    rng = random.Random(args.seed)
    chosen = []
    for book in books:
        items = [p for b, p in paragraphs_cache if b == book and args.min_words <= len(p.split()) <= args.max_words]
        if args.per_book:
            items = rng.sample(items, min(args.per_book, len(items)))
        chosen += [(p, book) for p in items]
    rng.shuffle(chosen)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "texts.csv")
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["text", "label", "is_valid"])
        for text, book in chosen:
            writer.writerow([text, book, "True" if rng.random() < args.valid_pct else "False"])
    print(f"wrote {path}: {len(chosen)} paragraphs from {len(books)} novels")


if __name__ == "__main__":
    paragraphs_cache = paragraphs()
    main()
