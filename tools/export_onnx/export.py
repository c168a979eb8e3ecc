#!/usr/bin/env python3
"""timm ViT checkpoint -> Dermxai contract v1 ONNX (full graph + forward-only graph).

python3 tools/export_onnx/export.py --checkpoint CKPT --out MODEL.onnx [--labels LABELS.txt] ...
See tools/export_onnx/README.md.
"""
import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from checkpoint import ExportError, infer_config, load_checkpoint_file, sha256_of_file  # noqa: E402
from onnx_writer import contract_metadata, forward_graph_path, write_graph  # noqa: E402
from vit_graph import VitGraph  # noqa: E402

DTYPES = {"float32": torch.float32, "float64": torch.float64}
PRECISIONS = ("mixed", "float32")


class OneSentenceParser(argparse.ArgumentParser):
    def error(self, message):
        sys.stderr.write(f"export.py: {message[0].upper() + message[1:]}.\n")
        sys.exit(2)


def parse_triple(text, flag):
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3:
        raise ExportError(f"{flag} needs three comma-separated numbers, got '{text}'.")
    if flag == "--std" and any(v <= 0 for v in values):
        raise ExportError(f"--std values must be positive, got '{text}'.")
    return values


def build_parser():
    p = OneSentenceParser(description="Export a timm ViT checkpoint to the Dermxai ONNX contract v1.")
    p.add_argument("--checkpoint", required=True, help="timm VisionTransformer state dict (torch.save)")
    p.add_argument("--out", required=True, help="output MODEL.onnx (MODEL.forward.onnx is written beside it)")
    p.add_argument("--labels", help="text file, one class label per line (default class_0 … class_{C-1})")
    p.add_argument("--num-heads", type=int, help="attention heads (default width / 64, timm's convention)")
    p.add_argument("--arch", help="architecture name for the metadata (default derived from the shapes)")
    p.add_argument("--image-size", type=int, help="input side S; must match the position embedding")
    p.add_argument("--crop-pct", type=float, default=0.9)
    p.add_argument("--interpolation", choices=("bicubic", "bilinear"), default="bicubic")
    p.add_argument("--mean", default="0.485,0.456,0.406")
    p.add_argument("--std", default="0.229,0.224,0.225")
    p.add_argument("--dtype", choices=tuple(DTYPES), default="float32")
    p.add_argument("--precision", choices=PRECISIONS, default="mixed",
                   help="float32 graphs only: 'mixed' (default) computes the forward pass in float64 "
                        "inside the float32 graph (LRP maps within the golden tolerance, ~1.3x the "
                        "time), 'float32' everything in float32 (see README)")
    p.add_argument("--lrp-sums-dtype", choices=tuple(DTYPES), default="float32",
                   help="precision of the per-image Add-rescaling sums inside a float32 graph "
                        "(float64 measured no better on the golden sets, see README)")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--no-forward-graph", action="store_true", help="skip MODEL.forward.onnx")
    p.add_argument("--verify", action="store_true",
                   help="check against torch autograd and the per-image reference rules; exit 1 on failure")
    p.add_argument("--verify-batch", type=int, default=4)
    p.add_argument("--trust-checkpoint", action="store_true",
                   help="allow pickled Python objects in the checkpoint (runs their unpickling code)")
    p.add_argument("--skip-timm-check", action="store_true", help="do not compare logits with timm")
    return p


def read_labels(path, num_classes):
    if path is None:
        return [f"class_{i}" for i in range(num_classes)]
    try:
        with open(path, encoding="utf-8") as f:
            labels = [line.strip() for line in f.read().splitlines()]
    except (OSError, UnicodeDecodeError) as e:
        raise ExportError(f"Cannot read the labels file {path} ({type(e).__name__}).")
    while labels and not labels[-1]:
        labels.pop()
    if len(labels) != num_classes:
        raise ExportError(f"The labels file has {len(labels)} labels but the checkpoint has "
                          f"{num_classes} classes.")
    if any(not label for label in labels):
        raise ExportError("The labels file contains an empty label line.")
    return labels


def validate_options(args):
    args.mean = parse_triple(args.mean, "--mean")
    args.std = parse_triple(args.std, "--std")
    if not 0 < args.crop_pct <= 1:
        raise ExportError(f"--crop-pct must be in (0, 1], got {args.crop_pct}.")
    if args.opset < 13:
        raise ExportError(f"--opset must be at least 13, got {args.opset}.")
    if args.verify_batch < 3:
        raise ExportError("--verify-batch must be at least 3.")
    out_dir = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(out_dir):
        raise ExportError(f"The output folder {out_dir} does not exist.")


def check_against_timm(config, state_dict, log):
    """Where timm is importable, its VisionTransformer must give our logits for the same weights."""
    try:
        from timm.models.vision_transformer import VisionTransformer
    except ImportError:
        log("timm check: timm is not importable here, skipped")
        return
    model = VisionTransformer(img_size=config.image_size, patch_size=config.patch_size,
                              embed_dim=config.width, depth=config.depth, num_heads=config.num_heads,
                              mlp_ratio=config.mlp_hidden / config.width, qkv_bias=config.qkv_bias,
                              num_classes=config.num_classes)
    model.load_state_dict(state_dict)
    model = model.to(torch.float64).eval()
    pixels = torch.randn(2, 3, config.image_size, config.image_size, generator=torch.Generator().manual_seed(1),
                         dtype=torch.float64)
    with torch.no_grad():
        ours = VitGraph(config, state_dict, torch.float64).forward_pass(pixels)[0]
        theirs = model(pixels)
    rel = float((ours - theirs).abs().max() / theirs.abs().max())
    log(f"timm check: float64 logits max rel difference {rel:.2e}")
    if rel > 1e-9:
        raise ExportError(f"The exporter's logits differ from timm's by {rel:.1e} relative for these weights.")


def current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def export(args, log):
    validate_options(args)
    state_dict = load_checkpoint_file(args.checkpoint, args.trust_checkpoint)
    config = infer_config(state_dict, args.num_heads, args.image_size)
    labels = read_labels(args.labels, config.num_classes)
    args.arch = args.arch or config.default_architecture_name()
    log(f"model: {args.arch}, depth {config.depth}, width {config.width}, heads {config.num_heads}, "
        f"patch {config.patch_size}, image {config.image_size}, classes {config.num_classes}, "
        f"qkv bias {config.qkv_bias}")
    dtype = DTYPES[args.dtype]
    sums_dtype = torch.float64 if dtype == torch.float64 else DTYPES[args.lrp_sums_dtype]
    # --precision mixed: the forward pass of the full graph in float64 (the forward-only graph,
    # logits for classification, stays plain float32: logits are well-conditioned).
    forward_dtype = torch.float64 if args.precision == "mixed" else dtype
    args.precision = "float64" if dtype == torch.float64 else args.precision
    log(f"precision: {args.precision}")
    if not args.skip_timm_check:
        check_against_timm(config, state_dict, log)
    metadata = contract_metadata(config, args, sha256_of_file(args.checkpoint), labels, args.dtype)
    graphs = {"full": VitGraph(config, state_dict, dtype, sums_dtype, forward_dtype),
              "forward": VitGraph(config, state_dict, dtype, sums_dtype)}
    targets = [(args.out, "full")]
    if not args.no_forward_graph:
        targets.append((forward_graph_path(args.out), "forward"))
    temp_paths = []
    try:
        for final_path, kind in targets:
            fd, temp = tempfile.mkstemp(prefix=".export-", suffix=".onnx.tmp",
                                        dir=os.path.dirname(os.path.abspath(final_path)))
            os.close(fd)
            temp_paths.append(temp)
            started = time.time()
            precision = args.precision if kind == "full" else args.dtype
            write_graph(graphs[kind], kind, temp, dict(metadata, **{"dermxai.precision": precision}), args.opset)
            os.chmod(temp, 0o666 & ~current_umask())
            log(f"{kind} graph: traced and written in {time.time() - started:.1f} s")
        if args.verify:
            from verify import verify
            if not verify(config, state_dict, dtype, sums_dtype, forward_dtype, onnx_path=temp_paths[0],
                          batch=args.verify_batch, out=log):
                raise ExportError("Verification failed: an output is above tolerance (see the lines above).")
            log("verify: all outputs within tolerance")
        for temp, (final_path, kind) in zip(temp_paths, targets):
            os.replace(temp, final_path)
            log(f"wrote {final_path} ({os.path.getsize(final_path) / 1e6:.1f} MB, {kind})")
        temp_paths = []
    finally:
        for temp in temp_paths:
            if os.path.exists(temp):
                os.remove(temp)


def main(argv=None):
    args = build_parser().parse_args(argv)
    started = time.time()
    try:
        export(args, log=print)
    except ExportError as e:
        sys.stderr.write(f"export.py: {e}\n")
        return 1
    except Exception as e:  # anything unforeseen still gets one sentence and no partial files
        sys.stderr.write(f"export.py: Export failed unexpectedly ({type(e).__name__}: {e}).\n")
        return 1
    print(f"done in {time.time() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
