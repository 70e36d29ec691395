"""fastai's twin of the `text-classifier` and `text-lm` recipes, for whole-command comparisons:
the same CSV (`text,label,is_valid`), AWD-LSTM sizes, epochs, batch size, sequence length and
learning rate, no pretraining, `num_workers=0`, the same threads.

    ../ref-venv/bin/python Benchmarks/compare_fastai_text.py --path /tmp/austen --epochs 4 \
        --emb 200 --hidden 400 --layers 2 [--lm] [--threads 2]

Prints the final validation metrics and the seconds from start to end.
"""
import argparse
import os
import time

START = time.time()

import pandas as pd  # noqa: E402
import torch  # noqa: E402
from fastai.text.all import (AWD_LSTM, TextDataLoaders, accuracy, language_model_learner, Perplexity,  # noqa: E402
                             text_classifier_learner)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--path", required=True)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--bs", type=int, default=64)
    parser.add_argument("--seq-len", type=int, default=72)
    parser.add_argument("--lr", type=float, default=2e-2)
    parser.add_argument("--emb", type=int, default=400)
    parser.add_argument("--hidden", type=int, default=1152)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--drop-mult", type=float, default=None)
    parser.add_argument("--lm", action="store_true", help="train a language model instead of a classifier")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    df = pd.read_csv(os.path.join(args.path, "texts.csv"))
    dls = TextDataLoaders.from_df(df, path=args.path, text_col="text", label_col="label", valid_col="is_valid", is_lm=args.lm,
                                  bs=args.bs, seq_len=args.seq_len, num_workers=0)
    config = dict(emb_sz=args.emb, n_hid=args.hidden, n_layers=args.layers)
    if args.lm:
        learn = language_model_learner(dls, AWD_LSTM, config={**__import__("fastai.text.all", fromlist=["awd_lstm_lm_config"]).awd_lstm_lm_config, **config},
                                       drop_mult=args.drop_mult or 1.0, metrics=[accuracy, Perplexity()], pretrained=False)
    else:
        learn = text_classifier_learner(dls, AWD_LSTM, config=config, drop_mult=args.drop_mult or 0.5, metrics=accuracy,
                                        pretrained=False, seq_len=args.seq_len)
    with learn.no_bar():
        learn.fit_one_cycle(args.epochs, args.lr)
    for row in learn.recorder.values:
        print(" ".join(f"{v:.4f}" for v in row))
    print(f"vocab {len(dls.vocab[0] if not args.lm else dls.vocab)}; seconds {time.time() - START:.1f}")


if __name__ == "__main__":
    main()
