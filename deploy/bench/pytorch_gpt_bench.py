#!/usr/bin/env python3
"""PyTorch eager baseline for `flotilla bench engine --backend cuda`.

Same GPT-2-style model as the engine (tied embeddings, gelu tanh, LayerNorm eps 1e-5; the same
definition as engine/src/test/python/make_fixtures.py, repeated here so the distribution carries a
single file), same configurations (small: 4 layers, width 128, 4 heads, context 64, batch 32,
vocab 64, 5 steps per run; medium: 6/256/8/128/16/256, 2 steps per run), AdamW with weight decay
0.1 and gradient clipping at 1.0, one warm-up run, then the median of --runs measured runs. It also
measures sgemm TFLOP/s on device-resident square matrices, like the engine bench.

    python3 pytorch_gpt_bench.py --device cuda [--precision fp32|tf32] [--runs 5]
    python3 pytorch_gpt_bench.py --device cpu --threads 2

Prints lines in the engine bench's format, so the two outputs compare line by line.
"""
import argparse
import math
import statistics
import time

import torch
import torch.nn.functional as F

CONFIGS = {
    "small": dict(layers=4, width=128, heads=4, ctx=64, batch=32, vocab=64, steps=5),
    "medium": dict(layers=6, width=256, heads=8, ctx=128, batch=16, vocab=256, steps=2),
}


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def gpt_params(layers, width, ctx, vocab, gen, device):
    def t(*shape, std):
        return (torch.randn(*shape, generator=gen) * std).to(device).requires_grad_()

    def ones(n):
        return (1 + torch.randn(n, generator=gen) * 0.1).to(device).requires_grad_()

    p = {"wte": t(vocab, width, std=0.02), "wpe": t(ctx, width, std=0.02)}
    for i in range(layers):
        h = f"h{i}."
        p[h + "ln_1.w"] = ones(width)
        p[h + "ln_1.b"] = t(width, std=0.1)
        p[h + "attn.w"] = t(width, 3 * width, std=0.02)
        p[h + "attn.b"] = t(3 * width, std=0.1)
        p[h + "proj.w"] = t(width, width, std=0.02)
        p[h + "proj.b"] = t(width, std=0.1)
        p[h + "ln_2.w"] = ones(width)
        p[h + "ln_2.b"] = t(width, std=0.1)
        p[h + "fc.w"] = t(width, 4 * width, std=0.02)
        p[h + "fc.b"] = t(4 * width, std=0.1)
        p[h + "fc_proj.w"] = t(4 * width, width, std=0.02)
        p[h + "fc_proj.b"] = t(width, std=0.1)
    p["ln_f.w"] = ones(width)
    p["ln_f.b"] = t(width, std=0.1)
    return p


def gpt_forward(p, idx, layers, heads):
    b, t = idx.shape
    x = p["wte"][idx] + p["wpe"][:t]
    c = x.shape[-1]
    hd = c // heads
    mask = torch.tril(torch.ones(t, t, dtype=torch.bool, device=idx.device))
    for i in range(layers):
        h = f"h{i}."
        a = F.layer_norm(x, (c,), p[h + "ln_1.w"], p[h + "ln_1.b"], 1e-5)
        qkv = a @ p[h + "attn.w"] + p[h + "attn.b"]
        q, k, v = qkv.split(c, dim=2)
        q = q.view(b, t, heads, hd).transpose(1, 2)
        k = k.view(b, t, heads, hd).transpose(1, 2)
        v = v.view(b, t, heads, hd).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
        x = x + (y @ p[h + "proj.w"] + p[h + "proj.b"])
        m = F.layer_norm(x, (c,), p[h + "ln_2.w"], p[h + "ln_2.b"], 1e-5)
        m = gelu_tanh(m @ p[h + "fc.w"] + p[h + "fc.b"])
        x = x + (m @ p[h + "fc_proj.w"] + p[h + "fc_proj.b"])
    x = F.layer_norm(x, (c,), p["ln_f.w"], p["ln_f.b"], 1e-5)
    return x @ p["wte"].t()


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def bench_gpt(cfg, runs, device):
    gen = torch.Generator().manual_seed(1)
    p = gpt_params(cfg["layers"], cfg["width"], cfg["ctx"], cfg["vocab"], gen, device)
    x = torch.randint(0, cfg["vocab"], (cfg["batch"], cfg["ctx"]), generator=gen).to(device)
    y = torch.randint(0, cfg["vocab"], (cfg["batch"], cfg["ctx"]), generator=gen).to(device)
    decay = [v for v in p.values() if v.dim() >= 2]
    no_decay = [v for v in p.values() if v.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
        lr=1e-3, betas=(0.9, 0.99), eps=1e-8)
    tokens = cfg["batch"] * cfg["ctx"] * cfg["steps"]
    results = []
    for run in range(runs + 1):
        sync(device)
        t0 = time.perf_counter()
        for _ in range(cfg["steps"]):
            opt.zero_grad()
            logits = gpt_forward(p, x, cfg["layers"], cfg["heads"])
            loss = F.cross_entropy(logits.view(-1, cfg["vocab"]), y.view(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(list(p.values()), 1.0)
            opt.step()
        sync(device)
        if run > 0:
            results.append(tokens / (time.perf_counter() - t0))
    return statistics.median(results)


def bench_sgemm(n, runs, device):
    a = torch.rand(n, n, device=device)
    b = torch.rand(n, n, device=device)
    c = a @ b
    results = []
    for _ in range(runs):
        reps = 0
        sync(device)
        t0 = time.perf_counter()
        while True:
            for _ in range(10):
                c = a @ b
            reps += 10
            sync(device)
            if time.perf_counter() - t0 >= 0.2:
                break
        results.append(2.0 * n ** 3 * reps / (time.perf_counter() - t0) / 1e12)
    del c
    return statistics.median(results)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--precision", default="fp32", choices=["fp32", "tf32"])
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0 = PyTorch's default)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--configs", default="small,medium")
    ap.add_argument("--sgemm-sizes", default="1024,4096,8192")
    a = ap.parse_args()
    if a.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("error: --device cuda but torch.cuda.is_available() is False")
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.backends.cuda.matmul.allow_tf32 = a.precision == "tf32"
    torch.backends.cudnn.allow_tf32 = a.precision == "tf32"
    device = torch.device(a.device)
    name = torch.cuda.get_device_name(0) if a.device == "cuda" else f"{torch.get_num_threads()} threads"
    print(f"pytorch {torch.__version__} eager on {a.device} ({name}), {a.precision}")
    for n in [int(s) for s in a.sgemm_sizes.split(",") if s]:
        print(f"sgemm {n}^3 device-resident: {bench_sgemm(n, a.runs, device):.2f} TFLOP/s (median of {a.runs})")
    for cfg_name in [s for s in a.configs.split(",") if s]:
        cfg = CONFIGS[cfg_name]
        tps = bench_gpt(cfg, a.runs, device)
        print(
            f"gpt {cfg_name} ({cfg['layers']} layers, width {cfg['width']}, {cfg['heads']} heads, "
            f"context {cfg['ctx']}, batch {cfg['batch']}, vocab {cfg['vocab']}): {tps:.0f} tokens/s "
            f"(median of {a.runs})")


if __name__ == "__main__":
    main()
