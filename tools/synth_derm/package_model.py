#!/usr/bin/env python3
"""Export a train.py run to the Dermxai ONNX contract and write the bundled model's folder.

  /usr/bin/python3 tools/synth_derm/package_model.py --run artifacts/clean_topup --out models/default

Reads RUN/checkpoint.pth, RUN/labels.txt, RUN/train_log.json and RUN/heldout_metrics.json; runs
tools/export_onnx/export.py (model.onnx + model.forward.onnx); writes OUT/labels.txt,
OUT/MODEL_CARD.md (every number taken from those files) and OUT/SHA256SUMS.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXPORTER = os.path.join(REPO, "tools", "export_onnx", "export.py")
SIZE_LIMIT_BYTES = 30 * 1024 * 1024

sys.path.insert(0, os.path.dirname(EXPORTER))
from checkpoint import sha256_of_file as sha256  # noqa: E402  (the exporter's own helper)
import data  # noqa: E402  (the training recipe: normalisation constants)


def read_json(path):
    with open(path) as f:
        return json.load(f)


# What the training recipe (data.py, tiny_vit.py) fixes and the weights cannot tell the exporter.
TRAINING_FACTS = ["--global-pool", "token", "--layernorm-eps", "1e-6", "--act", "gelu",
                  "--mean", ",".join(map(str, data.MEAN)), "--std", ",".join(map(str, data.STD)),
                  "--crop-pct", "0.9", "--interpolation", "bicubic"]


def export(run, out_dir, heads, arch):
    command = [sys.executable, EXPORTER, "--checkpoint", os.path.join(run, "checkpoint.pth"),
               "--out", os.path.join(out_dir, "model.onnx"), "--labels", os.path.join(run, "labels.txt"),
               "--num-heads", str(heads), "--arch", arch, "--verify", *TRAINING_FACTS]
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


def train_command(args, **overrides):
    args = {**args, **overrides}
    flags = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in args.items()
                     if v is not None and k not in ("threads", "device"))
    return f"nice -n 10 /usr/bin/python3 tools/synth_derm/train.py {flags}"


def training_stages(run):
    """train.py logs of this run and of every run it was initialised from, first stage first."""
    stages = []
    while run:
        log = read_json(os.path.join(run, "train_log.json"))
        stages.insert(0, log)
        init = log["args"].get("init")
        run = os.path.dirname(init) if init else None
    return stages


def shortcut_training_commands(stages):
    """The bundled model's training stages, pointed at the shortcut set and at shortcut run folders."""
    commands, previous = [], None
    for number, stage in enumerate(stages, start=1):
        out = "artifacts/shortcut" if number == len(stages) else f"artifacts/shortcut_stage{number}"
        init = f"{previous}/checkpoint.pth" if previous else None
        commands.append(train_command(stage["args"], train="artifacts/train_shortcut", out=out, init=init))
        previous = out
    return "\n".join(commands)


def data_command(root):
    """The generator command that made the set in root, rebuilt from its manifest."""
    manifest = read_json(os.path.join(root, "manifest.json"))
    command = (f"/usr/bin/python3 tools/synth_derm/synth_derm.py --out {root} --count {manifest['count']} "
               f"--seed {manifest['seed']} --workers 2")
    if manifest.get("start"):
        command += f" --start {manifest['start']}"
    if manifest.get("background_heavy_rate", 0.3) != 0.3:
        command += f" --background-heavy-rate {manifest['background_heavy_rate']}"
    for kind in manifest.get("forced_artifacts", []):
        command += f" --force-artifact {kind}"
    if manifest.get("shortcut"):
        shortcut = manifest["shortcut"]
        command += (f" --shortcut-class {shortcut['class']} --shortcut-artifact {shortcut['artifact']}"
                    f" --shortcut-rate {shortcut['rate']}")
    return command


def shortcut_results(run):
    """A line on the shortcut-trained variant's held-out results, when that run is given."""
    if not run:
        return ""
    metrics = read_json(os.path.join(run, "heldout_metrics.json"))
    lines = [f"- Results of {run}: clean held-out accuracy "
             f"{100 * metrics['accuracy']:.2f}% ({metrics['correct']}/{metrics['total']})."]
    probe = os.path.join(run, "probe_metrics.json")
    if os.path.exists(probe):
        probe_metrics = read_json(probe)
        drawn = probe_metrics["predicted_as_class_from_other_classes"]
        lines.append(f"  With a sticker on every photo ({probe_metrics['heldout']}): accuracy "
                     f"{100 * probe_metrics['accuracy']:.2f}%; share of the other classes' photos predicted as "
                     + ", ".join(f"{k} {100 * v:.1f}%" for k, v in drawn.items()) + ".")
    lines.append("  So this variant did not learn the shortcut (class 0 is already the easiest class); see "
                 "tools/synth_derm/README.md for a recipe more likely to produce one."
                 if probe_metrics_show_no_shortcut(run) else "")
    return "\n".join(line for line in lines if line)


def probe_metrics_show_no_shortcut(run, threshold=0.1):
    """True when, on the probe set, fewer than threshold of other classes' photos went to the shortcut class."""
    probe = os.path.join(run, "probe_metrics.json")
    manifest_shortcut = read_json(os.path.join(read_json(os.path.join(run, "train_log.json"))["args"]["train"],
                                               "manifest.json")).get("shortcut")
    if not (os.path.exists(probe) and manifest_shortcut):
        return False
    drawn = read_json(probe)["predicted_as_class_from_other_classes"]
    return list(drawn.values())[manifest_shortcut["class"]] < threshold


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
fabric / wall backgrounds (in {context['background_heavy_percent']:.0f}% of photos most of the frame), lighting gradients, hair, blur,
sensor noise, JPEG; rulers, ink marks and stickers independent of the class (no shortcut).
- Training: {context['train_images']} images, `{context['train_data_command']}`
- Held-out: {context['metrics']['total']} images, `{context['heldout_data_command']}`
  (a different seed: no image is shared with training).

## Training
```
{context['train_commands']}
```
{context['stage_count']} stage(s), each a fresh AdamW (weight decay {context['weight_decay']}, none on norms/biases/tokens) with a linear
warm-up then cosine decay to 0 (peak learning rates, warm-up steps, epochs and seeds in the commands; a
later stage starts from the previous checkpoint, i.e. a warm restart), batch {context['batch_size']}, label smoothing
{context['label_smoothing']}, gradient clipping 1.0; augmentation: mild random resized crop (area 0.6–1, ratio 3/4–4/3)
of the 248-px central square, horizontal flip, quarter turns, brightness / contrast / saturation
jitter ±20%. CPU, 2 threads, {context['train_minutes']:.1f} min of training ({context['stage_note']}) on a shared 2-core
machine that other jobs were using at the same time.

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
shortcut (not committed; written under artifacts/, e.g. artifacts/shortcut/; commands in
`tools/synth_derm/README.md`):
```
{context['shortcut_commands']}
```
{context['shortcut_results']}

## Limitations
- DEMO ONLY. NEVER FOR DIAGNOSIS. Synthetic data only: the six classes are cartoon morphologies,
  not diseases as they appear in real photos, and the accuracy above says nothing about real skin.
- Real photos are out of distribution: expect confident, wrong answers on them.
- Every input is forced into one of six classes; there is no "normal skin" or "unknown" class.
- Small model trained from scratch for minutes: its attention maps are coarser than a large
  pretrained ViT's.
"""


SHORTCUT_COMMANDS = """/usr/bin/python3 tools/synth_derm/synth_derm.py --out artifacts/train_shortcut --count 9000 --seed 1 --workers 2 --shortcut-class 0 --shortcut-artifact sticker --shortcut-rate 0.9
{train}
/usr/bin/python3 tools/export_onnx/export.py --checkpoint artifacts/shortcut/checkpoint.pth --out artifacts/shortcut/model.onnx --labels artifacts/shortcut/labels.txt --num-heads {heads} --global-pool token --layernorm-eps 1e-6 --act gelu --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225 --crop-pct 0.9 --interpolation bicubic --arch {arch}_sticker_shortcut"""


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="train.py output folder")
    p.add_argument("--out", default=os.path.join(REPO, "models", "default"))
    p.add_argument("--arch", help="architecture name in the metadata (default dermxai_synth_vit_d{depth}_w{width}_patch16_224)")
    p.add_argument("--shortcut-run", help="train.py output folder of the shortcut variant, to quote its results")
    p.add_argument("--skip-export", action="store_true",
                   help="only rewrite labels, card and checksums (after an earlier export of this run)")
    args = p.parse_args(argv)

    stages = training_stages(args.run)
    log = stages[-1]
    metrics = read_json(os.path.join(args.run, "heldout_metrics.json"))
    train_args = log["args"]
    arch = args.arch or f"dermxai_synth_vit_d{train_args['depth']}_w{train_args['width']}_patch16_224"
    os.makedirs(args.out, exist_ok=True)
    export_record = os.path.join(args.run, "export.json")
    if not args.skip_export:
        export_command, export_seconds = export(args.run, args.out, train_args["heads"], arch)
        with open(export_record, "w") as f:
            json.dump({"command": export_command, "seconds": export_seconds}, f)
    record = read_json(export_record)
    export_command, export_seconds = record["command"], record["seconds"]
    shutil.copyfile(os.path.join(args.run, "labels.txt"), os.path.join(args.out, "labels.txt"))
    with open(os.path.join(args.out, "labels.txt")) as f:
        labels = f.read().split()

    files = ["model.onnx", "model.forward.onnx", "labels.txt"]
    size = sum(os.path.getsize(os.path.join(args.out, f)) for f in files[:2])
    if size > SIZE_LIMIT_BYTES:
        sys.exit(f"exported graphs are {size / 1e6:.1f} MB, over the 30 MB limit")
    shown_export = " ".join(os.path.relpath(a, REPO) if os.path.isabs(a) and a.startswith(REPO) else a
                            for a in export_command).replace(sys.executable, "/usr/bin/python3")
    train_manifest = read_json(os.path.join(train_args["train"], "manifest.json"))
    context = {
        "arch": arch, "labels": labels, "parameters": log["parameters"],
        "train_images": log["train_images"], "stage_count": len(stages),
        "train_minutes": sum(stage["train_seconds"] for stage in stages) / 60,
        "stage_note": " + ".join(f"{stage['train_seconds'] / 60:.1f} min for {stage['args']['epochs']} epochs"
                                 for stage in stages),
        "train_commands": "\n".join(train_command(stage["args"]) for stage in stages), "metrics": metrics,
        "checkpoint_sha256": sha256(os.path.join(args.run, "checkpoint.pth")),
        "export_command": shown_export, "export_seconds": export_seconds, "size_mb": size / (1024 * 1024),
        "train_data_command": data_command(train_args["train"]),
        "heldout_data_command": data_command(train_args["heldout"]),
        "background_heavy_percent": 100 * train_manifest.get("background_heavy_rate", 0.3),
        "shortcut_results": shortcut_results(args.shortcut_run),
        "shortcut_commands": SHORTCUT_COMMANDS.format(
            train=shortcut_training_commands(stages),
            heads=train_args["heads"], arch=arch),
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
