#!/usr/bin/env python3
"""Writes Tests/TextTests/Fixtures/tokenizer_reference.json: awkward strings and the tokens fastai's
default tokenizer gives them (`Tokenizer(WordTokenizer())`: fastai's rules, then spaCy's blank
English tokenizer, then `replace_space`), through `tokenize1`. `TokenizerTests` compares FastSwift's
`Tokenizer` with them.

    ../ref-venv/bin/python Tests/Fixtures/make_tokenizer_reference.py   # needs fastai and spacy

With `--corpus CSV --out JSON` it writes fastai's tokens of every text of a CSV's `text` column
instead (not committed: `FASTSWIFT_TOKENIZER_CORPUS=JSON swift test --filter TokenizerTests`
then reports how many documents FastSwift tokenizes exactly as fastai does).
"""
import argparse
import csv
import json
import os

import fastai
import spacy
from fastai.text.all import WordTokenizer, tokenize1

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "TextTests", "Fixtures", "tokenizer_reference.json")

TEXTS = [
    "This movie was GREAT!!! I didn't expect it.",
    "I liked this movie because it's funny. We'll see, won't we? They're here; I'm not.",
    "Don't, can't, shouldn't, wouldn't, isn't, aren't, wasn't, haven't, hasn't, doesn't, didn't.",
    "It's 3.5 dollars (or $4.99), 10% off; 1,000,000 people and 2nd place at 10:30am on 12/06/2026.",
    "Visit https://www.fast.ai/posts/2020?x=1&y=2 or http://example.com/a-b_c now, or www.python.org.",
    "Write to jeremy@fast.ai... or not.",
    "&lt;br /&gt; Some &amp; HTML &quot;entities&quot; &#39;here&#39; and&nbsp;spaces<br />next line",
    "Sooooo goooood!!!!! Wow wow wow wow, this this this is it",
    "The the the word repeated: very very very very good",
    "ALL CAPS SENTENCE HERE but not here, USA and U.S.A. and NASA's rocket.",
    "Emoji 😀😀😀 and 👍 are fine 🎉! Hearts ❤️❤️",
    "Unicode: café naïve résumé Zürich — “quotes” ‘single’ « guillemets » … ellipsis",
    "Русский текст: Привет, мир! Как дела?",
    "日本語の文章です。中文句子，还有标点！",
    "Arabic: مرحبا بالعالم. Hebrew: שלום עולם.",
    "Tabs\tand\nnewlines\n\nand   many    spaces",
    "Hyphenated well-known state-of-the-art e-mail co-operate -- dashes - and—em dashes",
    "Slashes and/or #hashtags and back\\slashes, C++ and C# and F#.",
    "(Parentheses) [brackets] {braces} <angles> 'single' \"double\" `backtick`",
    "Ellipsis... and ..... and ?!?! and ??? and !!!",
    "Mr. Smith met Dr. Jones at 5 p.m. in the U.K., etc. e.g. i.e. vs. St. Louis",
    "I've, you've, we'd, he'd, she'll, they'll, it'll, y'all, ma'am, o'clock, rock 'n' roll",
    "gonna gotta wanna lemme cannot",
    "A",
    "",
    "   ",
    "xxbos already special xxunk tokens xxmaj",
    "Numbers: -5, +3, 1e10, 0x1F, 3/4, 50/50, 24/7, #1, 100km, 5kg, $5, £3, €2",
    "The film's director's cut (2019) isn't bad: 7/10.",
    "CamelCase iPhone McDonald's O'Brien eBay YouTube",
]


def corpus(path, out):
    tok = WordTokenizer()
    with open(path, encoding="utf-8") as f:
        texts = [row["text"] for row in csv.DictReader(f)]
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"cases": [{"text": t, "tokens": list(tokenize1(t, tok))} for t in texts]}, f, ensure_ascii=False)
    print("wrote", out, len(texts), "texts")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus")
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.corpus:
        return corpus(args.corpus, args.out)
    tok = WordTokenizer()
    out = {"fastai": fastai.__version__, "spacy": spacy.__version__,
           "cases": [{"text": t, "tokens": list(tokenize1(t, tok))} for t in TEXTS]}
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
    print("wrote", OUT, len(TEXTS), "cases")


if __name__ == "__main__":
    main()
