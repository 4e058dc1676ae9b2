#!/usr/bin/python3
"""PyTorch baseline for `bench engine`: GPT-2-style training tokens/s on the CPU.

Same configurations as the engine benchmark (small: 4 layers, width 128, 4 heads, context 64,
batch 32, vocab 64; medium: 6/256/8/128/16/256), AdamW, gradient clipping, one warm-up run,
five measured runs, median. Run with Debian's python3-torch and libopenblas0 installed:

    /usr/bin/python3 engine/src/test/python/bench_torch.py [--threads 2] [--runs 5]
"""
import argparse
import math
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from make_fixtures import gpt_forward, gpt_params  # noqa: E402

CONFIGS = {
    "small": dict(layers=4, width=128, heads=4, ctx=64, batch=32, vocab=64, steps=5),
    "medium": dict(layers=6, width=256, heads=8, ctx=128, batch=16, vocab=256, steps=2),
}


def bench(cfg, runs):
    gen = torch.Generator().manual_seed(1)
    p = gpt_params(cfg["layers"], cfg["width"], cfg["ctx"], cfg["vocab"], gen)
    x = torch.randint(0, cfg["vocab"], (cfg["batch"], cfg["ctx"]), generator=gen)
    y = torch.randint(0, cfg["vocab"], (cfg["batch"], cfg["ctx"]), generator=gen)
    opt = torch.optim.AdamW(list(p.values()), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)
    tokens = cfg["batch"] * cfg["ctx"] * cfg["steps"]
    results = []
    for run in range(runs + 1):
        t0 = time.perf_counter()
        for _ in range(cfg["steps"]):
            opt.zero_grad()
            logits = gpt_forward(p, x, cfg["layers"], cfg["heads"])
            loss = F.cross_entropy(logits.view(-1, cfg["vocab"]), y.view(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(list(p.values()), 1.0)
            opt.step()
        if run > 0:
            results.append(tokens / (time.perf_counter() - t0))
    return statistics.median(results)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--configs", default="small,medium")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for name in a.configs.split(","):
        cfg = CONFIGS[name]
        print(f"gpt {name}: {bench(cfg, a.runs):.0f} tokens/s (median of {a.runs})")


if __name__ == "__main__":
    main()
