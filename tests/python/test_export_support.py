"""Shared helpers for the export tool's tests (no tests here): paths, small random ViTs, map math."""
import json
import sys
from pathlib import Path

import numpy as np
import torch

from golden import GOLDEN, REPO, golden_tensor, load_golden  # noqa: F401  (re-exported for the tests)

EXPORT_DIR = REPO / "tools" / "export_onnx"
if str(EXPORT_DIR) not in sys.path:
    sys.path.insert(0, str(EXPORT_DIR))

GOLDEN_SETS = {"small": {"num_heads": 4}, "tiny224": {"num_heads": None}}


def random_vit_state_dict(depth=2, width=64, patch=8, image=32, classes=5, qkv_bias=True, seed=0,
                          sharpen=4.0):
    """A timm-format ViT state dict with random weights; `sharpen` scales q/k so attention has structure."""
    g = torch.Generator().manual_seed(seed)

    def rnd(*shape, std=0.1):
        return torch.randn(*shape, generator=g) * std

    tokens, hidden = 1 + (image // patch) ** 2, 4 * width
    sd = {"cls_token": rnd(1, 1, width, std=0.5), "pos_embed": rnd(1, tokens, width, std=0.5),
          "patch_embed.proj.weight": rnd(width, 3, patch, patch, std=0.05),
          "patch_embed.proj.bias": rnd(width)}
    for i in range(depth):
        b = f"blocks.{i}."
        qkv = rnd(3 * width, width)
        qkv[: 2 * width] *= sharpen
        sd.update({b + "norm1.weight": 1 + rnd(width), b + "norm1.bias": rnd(width),
                   b + "attn.qkv.weight": qkv, b + "attn.proj.weight": rnd(width, width),
                   b + "attn.proj.bias": rnd(width), b + "norm2.weight": 1 + rnd(width),
                   b + "norm2.bias": rnd(width), b + "mlp.fc1.weight": rnd(hidden, width),
                   b + "mlp.fc1.bias": rnd(hidden), b + "mlp.fc2.weight": rnd(width, hidden),
                   b + "mlp.fc2.bias": rnd(width)})
        if qkv_bias:
            sd[b + "attn.qkv.bias"] = rnd(3 * width)
    sd.update({"norm.weight": 1 + rnd(width), "norm.bias": rnd(width),
               "head.weight": rnd(classes, width, std=0.5), "head.bias": rnd(classes)})
    return sd


def rel_err(got, expected):
    return float(np.abs(np.asarray(got, np.float64) - expected).max() / np.abs(expected).max())


# ---- the method maps of docs/methods.md, per image, from [L,H,N,N] tensors (CLS row folded as a vector)

def _cls_row_of_product(mats, start):
    """Row 0 of M_{L-1} · … · M_start, folded from the left as v ← v·M."""
    v = np.zeros(mats[0].shape[0])
    v[0] = 1
    for m in reversed(mats[start:]):
        v = v @ m
    return v[1:]


def method_maps(attn, grad, rel, grid):
    """Every golden map name -> map, from one image's attn, attn_grad, attn_rel ([L,H,N,N])."""
    attn, grad, rel = (np.asarray(t, np.float64) for t in (attn, grad, rel))
    n = attn.shape[-1]
    eye = np.eye(n)
    ta = [np.maximum(0, g * r).mean(0) + eye for g, r in zip(grad, rel)]
    lrp = [np.maximum(0, r).mean(0) + eye for r in rel]
    rollout = [a.mean(0) + eye for a in attn]
    rollout = [m / m.sum(-1, keepdims=True) for m in rollout]
    maps = {}
    for s in (0, 1):
        maps[f"transformer_attribution_s{s}"] = _cls_row_of_product(ta, s)
        maps[f"lrp_rollout_s{s}"] = _cls_row_of_product(lrp, s)
        maps[f"attention_rollout_s{s}"] = _cls_row_of_product(rollout, s)
    maps["partial_lrp"] = np.maximum(0, rel[-1]).mean(0)[0, 1:]
    maps["raw_attention"] = attn[-1].mean(0)[0, 1:]
    generic = [np.maximum(0, g * a).mean(0) + eye for g, a in zip(grad, attn)]
    maps["generic_attention"] = _cls_row_of_product(generic, 0)
    if grid == 14:
        weights = grad[-1][:, 0, 1:].mean(-1)
        cam = np.maximum(0, (attn[-1][:, 0, 1:] * weights[:, None]).mean(0))
        maps["attention_gradcam"] = (cam - cam.min()) / (cam.max() - cam.min())
    return maps


def spearman(a, b):
    def ranks(x):
        order = np.argsort(x, kind="mergesort")
        r = np.empty(len(x))
        r[order] = np.arange(len(x))
        for value in np.unique(x):  # average ranks of ties
            tied = x == value
            r[tied] = r[tied].mean()
        return r
    ra, rb = ranks(np.asarray(a)), ranks(np.asarray(b))
    return float(np.corrcoef(ra, rb)[0, 1])
