#!/usr/bin/python3
"""Loads a directory written by `flotilla model export` (config.json + model.safetensors) into an
independent PyTorch GPT-2 implementation and solves a few additions greedily.

Checks that the export is a GPT-2 state dict with Hugging Face names, Conv1D layout and tied
lm_head. Where `transformers` is installed, also loads it with GPT2LMHeadModel.from_pretrained
and compares logits.

    /usr/bin/python3 engine/src/test/python/check_export.py DIR
"""
import json
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, __import__("os").path.dirname(__file__))
from make_fixtures import gpt_forward  # noqa: E402


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        assert v["dtype"] == "F32", v
        a, b = v["data_offsets"]
        out[k] = torch.from_numpy(np.frombuffer(data[a:b], dtype="<f4").copy()).view(*v["shape"])
    return out


def main(d):
    cfg = json.load(open(f"{d}/config.json"))
    p = read_safetensors(f"{d}/model.safetensors")
    layers, heads = cfg["n_layer"], cfg["n_head"]

    def encode(a, b, digits=3):
        s = f"{a:0{digits}d}+{b:0{digits}d}="
        return [10 if ch == "+" else 11 if ch == "=" else int(ch) for ch in s]

    correct = 0
    cases = [(123, 456), (999, 1), (500, 500), (77, 808), (314, 159), (0, 0), (641, 298), (88, 912)]
    for a, b in cases:
        toks = encode(a, b)
        for _ in range(4):
            logits = gpt_forward(p, torch.tensor([toks]), layers, heads)
            toks.append(int(logits[0, -1].argmax()))
        answer = int("".join(str(t) for t in reversed(toks[-4:])))
        ok = answer == a + b
        correct += ok
        print(f"{a}+{b} = {answer} {'ok' if ok else 'WRONG'}")
    try:
        from transformers import GPT2LMHeadModel
    except ImportError:
        print("transformers not installed: skipped from_pretrained comparison")
    else:
        hf = GPT2LMHeadModel.from_pretrained(d).eval()
        x = torch.tensor([encode(123, 456)])
        diff = (hf(x).logits - gpt_forward(p, x, layers, heads)).abs().max().item()
        print(f"GPT2LMHeadModel.from_pretrained: max logit difference {diff:.2e}")
    print(f"{correct}/{len(cases)} correct")


if __name__ == "__main__":
    main(sys.argv[1])
