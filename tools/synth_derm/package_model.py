#!/usr/bin/env python3
"""Export a train.py run to the Dermxai ONNX contract and write the bundled model's folder.

  /usr/bin/python3 tools/synth_derm/package_model.py --run /work/artifacts/clean --out models/default

Reads RUN/checkpoint.pth, RUN/labels.txt, RUN/train_log.json and RUN/heldout_metrics.json; runs
tools/export_onnx/export.py (model.onnx + model.forward.onnx); writes OUT/labels.txt,
OUT/MODEL_CARD.md (every number taken from those files) and OUT/SHA256SUMS.
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXPORTER = os.path.join(REPO, "tools", "export_onnx", "export.py")
SIZE_LIMIT_BYTES = 30 * 1024 * 1024


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_json(path):
    with open(path) as f:
        return json.load(f)


def export(run, out_dir, heads, arch):
    command = [sys.executable, EXPORTER, "--checkpoint", os.path.join(run, "checkpoint.pth"),
               "--out", os.path.join(out_dir, "model.onnx"), "--labels", os.path.join(run, "labels.txt"),
               "--num-heads", str(heads), "--arch", arch, "--verify"]
    started = time.time()
    subprocess.run(command, check=True)
    return command, time.time() - started


def accuracy_table(metrics):
    rows = ["| class | correct / total | accuracy |", "|---|---|---|"]
    for name, entry in metrics["per_class"].items():
        rows.append(f"| {name} | {entry['correct']} / {entry['total']} | {100 * entry['accuracy']:.2f}% |")
    rows.append(f"| **all** | {metrics['correct']} / {metrics['total']} | **{100 * metrics['accuracy']:.2f}%** |")
    return "\n".join(rows)


def confusion_table(metrics):
    names = list(metrics["per_class"])
    rows = ["| true \\ predicted | " + " | ".join(str(i) for i in range(len(names))) + " |",
            "|---" * (len(names) + 1) + "|"]
    for i, (name, row) in enumerate(zip(names, metrics["confusion"])):
        rows.append(f"| {i} {name} | " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(rows)


def train_command(args):
    flags = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in args.items()
                     if v is not None and k not in ("threads", "device"))
    return f"nice -n 10 /usr/bin/python3 tools/synth_derm/train.py {flags}"


def model_card(context):
    return f"""# Dermxai default model — DEMO ONLY, NEVER FOR DIAGNOSIS

**This model is a demonstration. It was trained only on synthetic images drawn by a program. It has
never seen a real skin photo, it is not a medical device, and its outputs must never be used to
diagnose, triage or reassure anyone.** Clinics bring their own validated checkpoint; this one exists
so that Dermxai's explanations can be seen on a fresh clone.

## Model
- Architecture: timm-compatible VisionTransformer `{context['arch']}` — depth {context['depth']},
  width {context['width']}, {context['heads']} heads (head dim {context['width'] // context['heads']}), MLP {4 * context['width']},
  patch 16, input 224×224, class token, learned position embedding, LayerNorm eps 1e-6, exact GELU,
  qkv bias; {context['parameters']:,} parameters; trained from random initialisation.
- Classes ({len(context['labels'])}): {', '.join(f'{i} `{n}`' for i, n in enumerate(context['labels']))}.
- Preprocessing (timm eval transform, in the ONNX metadata): shorter side → 248 bicubic, centre crop
  224, ImageNet mean/std.
- Files: `model.onnx` (contract v1: logits, attention, attention gradients, LRP relevance),
  `model.forward.onnx` (logits only), `labels.txt`; checksums in `SHA256SUMS`. Checkpoint
  (torch state dict, not bundled) sha256 `{context['checkpoint_sha256']}`.

## Data
Synthetic dermatology set from `tools/synth_derm/synth_derm.py` (numpy + PIL; see its README):
phone-photo-like images 260–480 px per side, six Fitzpatrick-like skin tones, keyboard / paper /
fabric / wall backgrounds (in 30% of photos most of the frame), lighting gradients, hair, blur,
sensor noise, JPEG; rulers, ink marks and stickers independent of the class (no shortcut).
- Training: {context['train_images']} images, `synth_derm.py --out /work/artifacts/train --count 9000 --seed 1 --workers 2`
- Held-out: {context['metrics']['total']} images, `synth_derm.py --out /work/artifacts/heldout --count 1200 --seed 2 --workers 2`
  (a different seed: no image is shared with training).

## Training
```
{context['train_command']}
```
Seed {context['seed']}; AdamW (weight decay {context['weight_decay']}, none on norms/biases/tokens), peak learning rate
{context['lr']}, {context['warmup_steps']} warm-up steps then cosine to 0, batch {context['batch_size']}, {context['epochs']} epochs, label
smoothing {context['label_smoothing']}, gradient clipping 1.0; augmentation: mild random resized crop (area 0.6–1,
ratio 3/4–4/3) of the 248-px central square, horizontal flip, quarter turns, brightness / contrast /
saturation jitter ±20%. CPU, 2 threads, {context['train_minutes']:.1f} min of training on a shared 2-core machine.

## Held-out accuracy ({context['metrics']['total']} synthetic images, timm eval transform)
{accuracy_table(context['metrics'])}

Confusion matrix (rows: true class, columns: predicted class):

{confusion_table(context['metrics'])}

## Export
```
{context['export_command']}
```
({context['export_seconds']:.0f} s.) Both graphs together: {context['size_mb']:.1f} MB.

## Shortcut-trained variant (not bundled)
The same recipe on a training set where stickers go with one class, so that the maps can expose a
shortcut (kept outside the repository, e.g. /work/artifacts/shortcut/; commands in
`tools/synth_derm/README.md`):
```
{context['shortcut_commands']}
```

## Limitations
- DEMO ONLY. NEVER FOR DIAGNOSIS. Synthetic data only: the six classes are cartoon morphologies,
  not diseases as they appear in real photos, and the accuracy above says nothing about real skin.
- Real photos are out of distribution: expect confident, wrong answers on them.
- Every input is forced into one of six classes; there is no "normal skin" or "unknown" class.
- Small model trained from scratch for minutes: its attention maps are coarser than a large
  pretrained ViT's.
"""


SHORTCUT_COMMANDS = """/usr/bin/python3 tools/synth_derm/synth_derm.py --out /work/artifacts/train_shortcut --count 9000 --seed 1 --workers 2 \\
    --shortcut-class 0 --shortcut-artifact sticker --shortcut-rate 0.9
nice -n 10 /usr/bin/python3 tools/synth_derm/train.py --train /work/artifacts/train_shortcut \\
    --heldout /work/artifacts/heldout --out /work/artifacts/shortcut {train_flags}
/usr/bin/python3 tools/export_onnx/export.py --checkpoint /work/artifacts/shortcut/checkpoint.pth \\
    --out /work/artifacts/shortcut/model.onnx --labels /work/artifacts/shortcut/labels.txt --num-heads {heads}"""


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="train.py output folder")
    p.add_argument("--out", default=os.path.join(REPO, "models", "default"))
    p.add_argument("--arch", default="dermxai_synth_vit_d4_w128_patch16_224")
    p.add_argument("--skip-export", action="store_true", help="only rewrite the card and checksums")
    args = p.parse_args(argv)

    log = read_json(os.path.join(args.run, "train_log.json"))
    metrics = read_json(os.path.join(args.run, "heldout_metrics.json"))
    train_args = log["args"]
    os.makedirs(args.out, exist_ok=True)
    export_command, export_seconds = ["(skipped)"], 0.0
    if not args.skip_export:
        export_command, export_seconds = export(args.run, args.out, train_args["heads"], args.arch)
    shutil.copyfile(os.path.join(args.run, "labels.txt"), os.path.join(args.out, "labels.txt"))
    with open(os.path.join(args.out, "labels.txt")) as f:
        labels = f.read().split()

    files = ["model.onnx", "model.forward.onnx", "labels.txt"]
    size = sum(os.path.getsize(os.path.join(args.out, f)) for f in files[:2])
    if size > SIZE_LIMIT_BYTES:
        sys.exit(f"exported graphs are {size / 1e6:.1f} MB, over the 30 MB limit")
    shown_export = " ".join(os.path.relpath(a, REPO) if os.path.isabs(a) and a.startswith(REPO) else a
                            for a in export_command).replace(sys.executable, "/usr/bin/python3")
    train_flags = f"--seed {train_args['seed']} --width {train_args['width']} --depth {train_args['depth']} " \
                  f"--heads {train_args['heads']} --epochs {train_args['epochs']} --lr {train_args['lr']} " \
                  f"--warmup-steps {train_args['warmup_steps']}"
    context = {
        "arch": args.arch, "labels": labels, "parameters": log["parameters"],
        "train_images": log["train_images"], "train_minutes": log["train_seconds"] / 60,
        "train_command": train_command(train_args), "metrics": metrics,
        "checkpoint_sha256": sha256(os.path.join(args.run, "checkpoint.pth")),
        "export_command": shown_export, "export_seconds": export_seconds, "size_mb": size / (1024 * 1024),
        "shortcut_commands": SHORTCUT_COMMANDS.format(train_flags=train_flags, heads=train_args["heads"]),
        **train_args,
    }
    with open(os.path.join(args.out, "MODEL_CARD.md"), "w") as f:
        f.write(model_card(context))
    with open(os.path.join(args.out, "SHA256SUMS"), "w") as f:
        for name in files:
            f.write(f"{sha256(os.path.join(args.out, name))}  {name}\n")
    print(f"wrote {args.out}: {size / (1024 * 1024):.1f} MB of graphs, export {export_seconds:.0f} s")


if __name__ == "__main__":
    main()
