#!/usr/bin/env python3
"""Train the bundled demo ViT (timm-format state dict) on a synth_derm set; evaluate on a held-out set.

  nice -n 10 /usr/bin/python3 tools/synth_derm/train.py --train artifacts/train \
      --heldout artifacts/heldout --out artifacts/clean --seed 0

Writes OUT/checkpoint.pth (timm VisionTransformer state dict: cls_token, pos_embed, patch_embed.proj.*,
blocks.i.*, norm.*, head.*), OUT/labels.txt, OUT/train_log.json and OUT/heldout_metrics.json
(accuracy per class, confusion matrix) — the held-out set is read with timm's eval transform.
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
from tiny_vit import VisionTransformer  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", required=True, help="synth_derm folder to train on")
    p.add_argument("--heldout", help="synth_derm folder to evaluate on after training")
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=float, default=5.0)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--warmup-steps", type=int, default=200)
    p.add_argument("--label-smoothing", type=float, default=0.1)
    p.add_argument("--width", type=int, default=192)
    p.add_argument("--depth", type=int, default=4)
    p.add_argument("--heads", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--init", help="start from this checkpoint (a top-up run) instead of random weights")
    p.add_argument("--train-limit", type=int, help="use only the first N training images (smoke runs)")
    p.add_argument("--heldout-limit", type=int)
    p.add_argument("--time-limit", type=float,
                   help="stop training after this many seconds (the checkpoint is still saved and evaluated); "
                        "the learning-rate schedule is still planned for --epochs")
    return p.parse_args(argv)


def learning_rate(step, total_steps, warmup_steps, peak):
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return peak * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def decay_groups(model, weight_decay):
    """timm's convention: no weight decay on biases, norms, cls_token and pos_embed."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        (no_decay if param.ndim <= 1 or name in ("cls_token", "pos_embed") else decay).append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def train(model, squares, labels, args, log):
    generator = torch.Generator().manual_seed(args.seed)
    optimizer = torch.optim.AdamW(decay_groups(model, args.weight_decay), lr=args.lr)
    steps_per_epoch = len(labels) // args.batch_size
    total_steps = int(args.epochs * steps_per_epoch)
    started = time.time()
    step = 0
    model.train()
    while step < total_steps:
        order = torch.randperm(len(labels), generator=generator)
        for first in range(0, steps_per_epoch * args.batch_size, args.batch_size):
            if step >= total_steps:
                break
            if args.time_limit is not None and time.time() - started > args.time_limit:
                log.append({"stopped_by_time_limit": True, "step": step, "of": total_steps,
                            "seconds": round(time.time() - started, 1)})
                print(json.dumps(log[-1]), flush=True)
                return time.time() - started
            index = order[first:first + args.batch_size]
            x = data.augment_batch(squares[index], generator).to(args.device)
            y = labels[index].to(args.device)
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(step, total_steps, args.warmup_steps, args.lr)
            logits = model(x)
            loss = F.cross_entropy(logits, y, label_smoothing=args.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            step += 1
            if step % 25 == 0 or step == total_steps:
                accuracy = (logits.argmax(1) == y).float().mean().item()
                entry = {"step": step, "of": total_steps, "loss": round(loss.item(), 4),
                         "batch_accuracy": round(accuracy, 3), "seconds": round(time.time() - started, 1)}
                log.append(entry)
                print(json.dumps(entry), flush=True)
    return time.time() - started


@torch.no_grad()
def evaluate(model, pixels, labels, num_classes, batch_size=128):
    model.eval()
    device = next(model.parameters()).device
    predictions = torch.cat([model(data.normalise(pixels[i:i + batch_size]).to(device)).argmax(1).cpu()
                             for i in range(0, len(labels), batch_size)])
    confusion = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    for truth, guess in zip(labels.tolist(), predictions.tolist()):
        confusion[truth, guess] += 1
    return predictions, confusion


def metrics_from_confusion(confusion, label_names):
    per_class = {}
    for k, name in enumerate(label_names):
        total = int(confusion[k].sum())
        per_class[name] = {"correct": int(confusion[k, k]), "total": total,
                           "accuracy": round(int(confusion[k, k]) / max(1, total), 4)}
    correct = int(confusion.diagonal().sum())
    total = int(confusion.sum())
    return {"accuracy": round(correct / max(1, total), 4), "correct": correct, "total": total,
            "per_class": per_class, "confusion": confusion.tolist(),
            "confusion_rows": "true class", "confusion_cols": "predicted class"}


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    label_names = data.read_manifest(args.train)["labels"]

    started = time.time()
    squares, labels, _ = data.load_set(args.train, data.train_square, args.train_limit)
    load_seconds = time.time() - started
    print(f"loaded {len(labels)} training images in {load_seconds:.0f} s", flush=True)

    model = VisionTransformer(num_classes=len(label_names), width=args.width, depth=args.depth,
                              num_heads=args.heads)
    if args.init:
        model.load_state_dict(torch.load(args.init, map_location="cpu"))
    model.to(args.device)
    log = []
    train_seconds = train(model, squares, labels, args, log)
    model.cpu()
    torch.save(model.state_dict(), os.path.join(args.out, "checkpoint.pth"))
    with open(os.path.join(args.out, "labels.txt"), "w") as f:
        f.write("\n".join(label_names) + "\n")
    summary = {"args": vars(args), "train_images": len(labels), "load_seconds": round(load_seconds, 1),
               "train_seconds": round(train_seconds, 1),
               "parameters": sum(p.numel() for p in model.parameters()), "log": log}
    with open(os.path.join(args.out, "train_log.json"), "w") as f:
        json.dump(summary, f, indent=1)

    if args.heldout:
        pixels, heldout_labels, records = data.load_set(args.heldout, data.eval_crop, args.heldout_limit)
        predictions, confusion = evaluate(model, pixels, heldout_labels, len(label_names))
        metrics = metrics_from_confusion(confusion, label_names)
        metrics["heldout"] = os.path.abspath(args.heldout)
        metrics["transform"] = "timm eval: shorter side 248 bicubic, centre crop 224, ImageNet mean/std"
        metrics["predictions"] = {r["name"]: int(p) for r, p in zip(records, predictions.tolist())}
        with open(os.path.join(args.out, "heldout_metrics.json"), "w") as f:
            json.dump(metrics, f, indent=1)
        print(json.dumps({k: metrics[k] for k in ("accuracy", "correct", "total")}))
        for name, entry in metrics["per_class"].items():
            print(f"  {name:22s} {entry['accuracy']:.4f} ({entry['correct']}/{entry['total']})")


if __name__ == "__main__":
    main()
