#!/usr/bin/env python3
"""Rebuilds a timm state dict from the weights stored in an exported MODEL.onnx, so that a model
whose checkpoint is not at hand can be exported again (a newer graph set, another dtype). The
weights are stored exactly (float32 or float64 initializers), so the rebuilt state dict gives the
same numbers as the original checkpoint in that dtype.

python3 tools/export_onnx/state_from_onnx.py MODEL.onnx OUT.pth [--labels-out LABELS.txt]
prints the export.py flags the metadata supplies; global pooling, LayerNorm eps and the activation
are not in the metadata and must come from the model's own record (e.g. its model card)."""
import argparse
import json
import os
import sys

import onnx
import torch
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vit_graph import BLOCK_KEYS  # noqa: E402

TOP_LEVEL = {"patch_bias": "patch_embed.proj.bias", "pos_embed": "pos_embed", "cls_token": "cls_token",
             "pre_w": "norm_pre.weight", "pre_b": "norm_pre.bias", "norm_w": "norm.weight", "norm_b": "norm.bias",
             "fc_norm_w": "fc_norm.weight", "fc_norm_b": "fc_norm.bias", "head_w": "head.weight",
             "head_b": "head.bias", "head_dist_w": "head_dist.weight", "head_dist_b": "head_dist.bias"}
BUFFERS = {"cls_row_mask", "pool_rows", "class_ids", "scale_keys", "scale_features"}  # derived, not weights


def state_dict_from_onnx(path):
    """(timm state dict, metadata dict) from the initializers and metadata_props of an exported graph."""
    model = onnx.load(path)
    metadata = {p.key: p.value for p in model.metadata_props}
    patch = int(metadata["patch_size"])
    block_keys = dict(BLOCK_KEYS)
    state = {}
    for tensor in model.graph.initializer:
        name = tensor.name[len("vit."):] if tensor.name.startswith("vit.") else tensor.name
        value = torch.from_numpy(numpy_helper.to_array(tensor).copy())
        parts = name.split(".")
        if name in BUFFERS:
            continue
        if name == "patch_weight":
            state["patch_embed.proj.weight"] = value.reshape(value.shape[0], 3, patch, patch)
        elif name == "prefix":
            if value.shape[1] != 1 or metadata.get("readout", "class") != "class":
                raise SystemExit(f"{path}: {value.shape[1]} prefix tokens; only a single class token is rebuilt.")
            state["cls_token"] = value
        elif name in TOP_LEVEL:
            state[TOP_LEVEL[name]] = value
        elif parts[0] == "blocks" and len(parts) == 3 and parts[2] in block_keys:
            state[f"blocks.{parts[1]}.{block_keys[parts[2]]}"] = value
        else:
            raise SystemExit(f"{path}: initializer {tensor.name} is not a weight this tool knows.")
    return state, metadata


def export_flags(metadata):
    """The export.py flags the metadata determines."""
    triple = ",".join
    return ["--num-heads", metadata["num_heads"], "--mean", triple(str(v) for v in json.loads(metadata["mean"])),
            "--std", triple(str(v) for v in json.loads(metadata["std"])), "--crop-pct", metadata["crop_pct"],
            "--interpolation", metadata["interpolation"], "--arch", metadata["architecture"],
            "--dtype", metadata["dtype"]]


def main(argv=None):
    p = argparse.ArgumentParser(description="Rebuild a timm state dict from an exported Dermxai MODEL.onnx.")
    p.add_argument("model")
    p.add_argument("out", help="OUT.pth (torch.save of the state dict)")
    p.add_argument("--labels-out", help="write the metadata's labels, one per line")
    args = p.parse_args(argv)
    state, metadata = state_dict_from_onnx(args.model)
    torch.save(state, args.out)
    if args.labels_out:
        with open(args.labels_out, "w", encoding="utf-8") as f:
            f.write("\n".join(json.loads(metadata["labels"])) + "\n")
    print(f"wrote {args.out}: {len(state)} tensors, {sum(v.numel() for v in state.values()):,} parameters")
    print("export.py flags from the metadata: " + " ".join(export_flags(metadata)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
