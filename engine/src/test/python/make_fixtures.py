#!/usr/bin/python3
"""Generates PyTorch reference fixtures for the engine's parity tests.

Regenerate (Debian: apt-get install -y python3-torch libopenblas0) from the repository root:

    /usr/bin/python3 engine/src/test/python/make_fixtures.py engine/src/test/resources/parity

For a tiny GPT-2 (Hugging Face architecture and parameter names, Conv1D weights [in, out],
tied lm_head, gelu tanh approximation, LayerNorm eps 1e-5) and a tiny MLP it writes one
safetensors file each with: the initial weights ("param.NAME"), one batch ("inputs",
"targets"), the expected logits, every gradient ("grad.NAME") after the mean cross-entropy, and
in the metadata the loss and the losses of 20 AdamW steps (lr 1e-2, betas (0.9, 0.99), eps 1e-8,
weight decay 0.1 on tensors of rank >= 2, global-norm clipping at 1.0) on the same batch.
Everything is computed in float32. The MLP's weights are stored transposed ([in, out]) to match
the engine's layout.
"""
import json
import math
import struct
import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(1)


def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    offset = 0
    blobs = []
    for name, t in tensors.items():
        data = t.detach().contiguous().to(torch.float32).numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    h = json.dumps(header).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def gpt_params(layers, width, ctx, vocab, gen):
    p = {}
    def normal(*shape, std=0.02):
        return (torch.randn(*shape, generator=gen) * std * 10).requires_grad_()  # larger than GPT-2 init: exercises nonlinearity
    def small(*shape):
        return (torch.randn(*shape, generator=gen) * 0.1).requires_grad_()
    p["transformer.wte.weight"] = normal(vocab, width)
    p["transformer.wpe.weight"] = normal(ctx, width)
    for i in range(layers):
        h = f"transformer.h.{i}."
        p[h + "ln_1.weight"] = (1 + torch.randn(width, generator=gen) * 0.1).requires_grad_()
        p[h + "ln_1.bias"] = small(width)
        p[h + "attn.c_attn.weight"] = normal(width, 3 * width)
        p[h + "attn.c_attn.bias"] = small(3 * width)
        p[h + "attn.c_proj.weight"] = normal(width, width)
        p[h + "attn.c_proj.bias"] = small(width)
        p[h + "ln_2.weight"] = (1 + torch.randn(width, generator=gen) * 0.1).requires_grad_()
        p[h + "ln_2.bias"] = small(width)
        p[h + "mlp.c_fc.weight"] = normal(width, 4 * width)
        p[h + "mlp.c_fc.bias"] = small(4 * width)
        p[h + "mlp.c_proj.weight"] = normal(4 * width, width)
        p[h + "mlp.c_proj.bias"] = small(width)
    p["transformer.ln_f.weight"] = (1 + torch.randn(width, generator=gen) * 0.1).requires_grad_()
    p["transformer.ln_f.bias"] = small(width)
    return p


def gpt_forward(p, idx, layers, heads):
    b, t = idx.shape
    x = p["transformer.wte.weight"][idx] + p["transformer.wpe.weight"][:t]
    c = x.shape[-1]
    hd = c // heads
    mask = torch.tril(torch.ones(t, t, dtype=torch.bool))
    for i in range(layers):
        h = f"transformer.h.{i}."
        a = F.layer_norm(x, (c,), p[h + "ln_1.weight"], p[h + "ln_1.bias"], 1e-5)
        qkv = a @ p[h + "attn.c_attn.weight"] + p[h + "attn.c_attn.bias"]
        q, k, v = qkv.split(c, dim=2)
        q = q.view(b, t, heads, hd).transpose(1, 2)
        k = k.view(b, t, heads, hd).transpose(1, 2)
        v = v.view(b, t, heads, hd).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
        x = x + (y @ p[h + "attn.c_proj.weight"] + p[h + "attn.c_proj.bias"])
        m = F.layer_norm(x, (c,), p[h + "ln_2.weight"], p[h + "ln_2.bias"], 1e-5)
        m = gelu_tanh(m @ p[h + "mlp.c_fc.weight"] + p[h + "mlp.c_fc.bias"])
        x = x + (m @ p[h + "mlp.c_proj.weight"] + p[h + "mlp.c_proj.bias"])
    x = F.layer_norm(x, (c,), p["transformer.ln_f.weight"], p["transformer.ln_f.bias"], 1e-5)
    return x @ p["transformer.wte.weight"].t()


def adamw_losses(params, loss_fn, steps=20):
    decay = [v for v in params.values() if v.dim() >= 2]
    no_decay = [v for v in params.values() if v.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
        lr=1e-2, betas=(0.9, 0.99), eps=1e-8)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn()
        losses.append(loss.item())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(params.values()), 1.0)
        opt.step()
    return losses


def make_gpt(out_dir):
    layers, width, heads, ctx, vocab, b = 2, 16, 2, 8, 11, 3
    gen = torch.Generator().manual_seed(1234)
    p = gpt_params(layers, width, ctx, vocab, gen)
    idx = torch.randint(0, vocab, (b, ctx), generator=gen)
    tgt = torch.randint(0, vocab, (b, ctx), generator=gen)
    tensors = {"param." + k: v.detach().clone() for k, v in p.items()}
    logits = gpt_forward(p, idx, layers, heads)
    loss = F.cross_entropy(logits.view(-1, vocab), tgt.view(-1))
    loss.backward()
    tensors["inputs"] = idx.float()
    tensors["targets"] = tgt.float()
    tensors["logits"] = logits.detach()
    for k, v in p.items():
        tensors["grad." + k] = v.grad.detach().clone()
    losses = adamw_losses(p, lambda: F.cross_entropy(gpt_forward(p, idx, layers, heads).view(-1, vocab), tgt.view(-1)))
    meta = {"config": json.dumps({"layers": layers, "width": width, "heads": heads, "context": ctx, "vocab": vocab}),
            "loss": repr(loss.item()), "adamw_losses": json.dumps(losses)}
    write_safetensors(f"{out_dir}/gpt-tiny.safetensors", tensors, meta)


def make_mlp(out_dir):
    inputs, hidden, classes, b = 6, [9, 5], 4, 5
    gen = torch.Generator().manual_seed(4321)
    sizes = [inputs] + hidden + [classes]
    p = {}
    for i in range(len(sizes) - 1):
        p[f"layers.{i}.weight"] = (torch.randn(sizes[i], sizes[i + 1], generator=gen) * 0.5).requires_grad_()
        p[f"layers.{i}.bias"] = (torch.randn(sizes[i + 1], generator=gen) * 0.1).requires_grad_()
    x = torch.randn(b, inputs, generator=gen)
    y = torch.randint(0, classes, (b,), generator=gen)

    def forward():
        h = x
        n = len(sizes) - 1
        for i in range(n):
            h = h @ p[f"layers.{i}.weight"] + p[f"layers.{i}.bias"]
            if i < n - 1:
                h = torch.relu(h)
        return h

    tensors = {"param." + k: v.detach().clone() for k, v in p.items()}
    logits = forward()
    loss = F.cross_entropy(logits, y)
    loss.backward()
    tensors["inputs"] = x
    tensors["targets"] = y.float()
    tensors["logits"] = logits.detach()
    for k, v in p.items():
        tensors["grad." + k] = v.grad.detach().clone()
    losses = adamw_losses(p, lambda: F.cross_entropy(forward(), y))
    meta = {"config": json.dumps({"inputs": inputs, "hidden": hidden, "classes": classes}),
            "loss": repr(loss.item()), "adamw_losses": json.dumps(losses)}
    write_safetensors(f"{out_dir}/mlp-tiny.safetensors", tensors, meta)


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "engine/src/test/resources/parity"
    make_gpt(out)
    make_mlp(out)
    print("wrote", out)
