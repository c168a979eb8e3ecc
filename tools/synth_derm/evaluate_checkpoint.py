#!/usr/bin/env python3
"""Accuracy per class of a train.py checkpoint on a synth_derm set (timm eval transform).

  /usr/bin/python3 tools/synth_derm/evaluate_checkpoint.py --checkpoint RUN/checkpoint.pth \
      --heads 2 --set artifacts/heldout_sticker --out RUN/probe_metrics.json

Besides accuracy and the confusion matrix it records, for each class, the share of photos of the
other classes predicted as that class: a shortcut shows up as a jump of that share on a probe set.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import train  # noqa: E402
from tiny_vit import VisionTransformer  # noqa: E402


def model_from_checkpoint(path, heads):
    state = torch.load(path, map_location="cpu")
    width = state["cls_token"].shape[-1]
    depth = len({k.split(".")[1] for k in state if k.startswith("blocks.")})
    model = VisionTransformer(num_classes=state["head.weight"].shape[0], width=width, depth=depth, num_heads=heads)
    model.load_state_dict(state)
    return model


def drawn_to_each_class(confusion):
    """Per class k: the share of photos whose true class is not k that were predicted as k."""
    shares = []
    for k in range(confusion.shape[0]):
        others = torch.cat([confusion[:k], confusion[k + 1:]])
        shares.append(round(int(others[:, k].sum()) / max(1, int(others.sum())), 4))
    return shares


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--heads", type=int, required=True)
    p.add_argument("--set", required=True, help="synth_derm folder")
    p.add_argument("--out", required=True, help="metrics JSON to write")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    labels = data.read_manifest(args.set)["labels"]
    model = model_from_checkpoint(args.checkpoint, args.heads)
    pixels, truth, _ = data.load_set(args.set, data.eval_crop)
    _, confusion = train.evaluate(model, pixels, truth, len(labels))
    metrics = train.metrics_from_confusion(confusion, labels)
    metrics["heldout"] = os.path.abspath(args.set)
    metrics["predicted_as_class_from_other_classes"] = dict(zip(labels, drawn_to_each_class(confusion)))
    with open(args.out, "w") as f:
        json.dump(metrics, f, indent=1)
    print(json.dumps({k: metrics[k] for k in ("accuracy", "correct", "total")}))
    for name, entry in metrics["per_class"].items():
        print(f"  {name:22s} {entry['accuracy']:.4f} ({entry['correct']}/{entry['total']})  "
              f"others predicted as it: {metrics['predicted_as_class_from_other_classes'][name]:.4f}")


if __name__ == "__main__":
    main()
