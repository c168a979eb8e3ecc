#!/usr/bin/env python3
"""timm ViT checkpoint -> Dermxai contract v1 ONNX (full graph + forward-only graph).

python3 tools/export_onnx/export.py --checkpoint CKPT --out MODEL.onnx [--arch NAME] [--labels LABELS.txt] ...
See tools/export_onnx/README.md.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from arch_defaults import TIMM_ARCHITECTURES  # noqa: E402
from architecture import infer_config, structure, unsupported_features  # noqa: E402
from checkpoint import load_checkpoint, sha256_of_file  # noqa: E402
from errors import ExportError  # noqa: E402
from graph_kinds import GRAPH_KINDS  # noqa: E402
from onnx_writer import contract_metadata, graph_path, write_graph  # noqa: E402
from resolve import describe, resolve  # noqa: E402
from timm_check import check_against_timm  # noqa: E402
from vit_graph import VitGraph  # noqa: E402

DTYPES = {"float32": torch.float32, "float64": torch.float64}
PRECISIONS = ("mixed", "float32")
INTERPOLATIONS = ("bicubic", "bilinear")


class OneSentenceParser(argparse.ArgumentParser):
    def error(self, message):
        sys.stderr.write(f"export.py: {message[0].upper() + message[1:]}.\n")
        sys.exit(2)


def parse_triple(text, flag):
    if text is None:
        return None
    try:
        values = tuple(float(v) for v in str(text).strip("()[] ").split(","))
    except ValueError:
        values = ()
    if len(values) != 3:
        raise ExportError(f"{flag} needs three comma-separated numbers, got '{text}'.")
    if flag == "--std" and any(v <= 0 for v in values):
        raise ExportError(f"--std values must be positive, got '{text}'.")
    return values


def build_parser():
    p = OneSentenceParser(description="Export a timm ViT checkpoint to the Dermxai ONNX contract v1.")
    p.add_argument("--checkpoint", required=True,
                   help="torch.save file, .safetensors, or a timm save_for_hf folder")
    p.add_argument("--out", required=True, help="output MODEL.onnx (MODEL.forward.onnx is written beside it)")
    p.add_argument("--labels", help="text file, one class label per line (default class_0 … class_{C-1})")
    p.add_argument("--arch", help="timm model name: its defaults supply facts the weights do not determine")
    facts = p.add_argument_group("architecture and preprocessing facts (override the checkpoint's args and --arch)")
    facts.add_argument("--num-heads", type=int)
    facts.add_argument("--global-pool", choices=("token", "avg", "avgmax", "max", "map"))
    facts.add_argument("--pool-include-prefix", choices=("true", "false"),
                       help="global average pooling over the prefix tokens too (timm pool_include_prefix)")
    facts.add_argument("--layernorm-eps", type=float)
    facts.add_argument("--act", choices=("gelu", "quick_gelu"))
    facts.add_argument("--image-size", type=int, help="input side S; must match the position embedding")
    facts.add_argument("--crop-pct", type=float)
    facts.add_argument("--interpolation")
    facts.add_argument("--mean")
    facts.add_argument("--std")
    p.add_argument("--weights", choices=("ema", "model"),
                   help="which set of a checkpoint holding both (default: EMA, as timm's load_checkpoint)")
    p.add_argument("--dtype", choices=tuple(DTYPES), default="float32")
    p.add_argument("--precision", choices=PRECISIONS, default="mixed",
                   help="float32 graphs only: 'mixed' (default) computes the full graph's forward pass in "
                        "float64 (GELU's erf aside) inside the float32 graph, 'float32' everything in "
                        "float32; the gradient and forward graphs are float32 either way (see README)")
    p.add_argument("--lrp-sums-dtype", choices=tuple(DTYPES), default="float32",
                   help="precision of the per-image Add-rescaling sums inside a float32 graph")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--external-data", choices=("auto", "always"), default="auto",
                   help="weights in MODEL.onnx.data: 'auto' when the graph would exceed 2 GB")
    p.add_argument("--graphs", default=",".join(GRAPH_KINDS),
                   help="comma-separated graphs to write, 'full' always among them: full (MODEL.onnx), "
                        "gradient (MODEL.gradient.onnx), forward (MODEL.forward.onnx); default all three")
    p.add_argument("--no-forward-graph", action="store_true", help="skip MODEL.forward.onnx (same as leaving "
                   "'forward' out of --graphs)")
    p.add_argument("--reduce-heads", action="store_true",
                   help="output head-reduced maps instead of the [L,·,H,N,N] tensors (docs/contract.md)")
    p.add_argument("--verify", action="store_true",
                   help="check the file against torch autograd and the per-image reference rules "
                        "(and through ONNX Runtime via tools/GraphRunner when dotnet exists); exit 1 on failure")
    p.add_argument("--verify-batch", type=int, default=4)
    p.add_argument("--trust-checkpoint", action="store_true",
                   help="allow pickled Python objects beyond tensors and argparse args (runs their code)")
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
    if args.opset < 13:
        raise ExportError(f"--opset must be at least 13, got {args.opset}.")
    kinds = [kind.strip() for kind in args.graphs.split(",") if kind.strip()]
    unknown = [kind for kind in kinds if kind not in GRAPH_KINDS]
    if unknown or "full" not in kinds:
        raise ExportError(f"--graphs takes a comma-separated subset of {', '.join(GRAPH_KINDS)} that "
                          f"includes full, got '{args.graphs}'.")
    args.graph_kinds = [kind for kind in GRAPH_KINDS if kind in kinds and not (kind == "forward" and args.no_forward_graph)]
    if args.verify_batch < 3:
        raise ExportError("--verify-batch must be at least 3.")
    out_dir = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(out_dir):
        raise ExportError(f"The output folder {out_dir} does not exist.")


def flag_facts(args):
    include = None if args.pool_include_prefix is None else args.pool_include_prefix == "true"
    return {"num_heads": args.num_heads, "global_pool": args.global_pool, "pool_include_prefix": include,
            "ln_eps": args.layernorm_eps, "act": args.act, "mean": parse_triple(args.mean, "--mean"),
            "std": parse_triple(args.std, "--std"), "crop_pct": args.crop_pct, "interpolation": args.interpolation}


def check_preprocessing(values, sources):
    values["mean"] = parse_triple(",".join(str(v) for v in values["mean"]), "--mean")
    values["std"] = parse_triple(",".join(str(v) for v in values["std"]), "--std")
    values["crop_pct"] = float(values["crop_pct"])
    if not 0 < values["crop_pct"] <= 1:
        raise ExportError(f"crop_pct must be in (0, 1], got {values['crop_pct']} ({sources['crop_pct']}).")
    if values["interpolation"] not in INTERPOLATIONS:
        raise ExportError(f"Interpolation '{values['interpolation']}' ({sources['interpolation']}) is not "
                          f"supported by the Dermxai preprocessor; pass --interpolation bicubic or bilinear.")


def refuse_unsupported_arch(arch, state_dict, path):
    entry = TIMM_ARCHITECTURES.get(arch or "")
    if entry and entry["unsupported"]:
        found = [f"{name} (found {key}; nearest supported: {nearest})"
                 for name, key, nearest in unsupported_features(state_dict)
                 if name.split(" (")[0] not in entry["unsupported"]]  # the same feature, named once
        raise ExportError(f"Checkpoint {path} ({arch}) uses {1 + len(found)} unsupported feature(s): "
                          + "; ".join([f"{entry['unsupported']}"] + found) + ".")


def prepare(args, log):
    """Load, refuse, resolve: (config, state_dict, metadata facts) or ExportError."""
    loaded = load_checkpoint(args.checkpoint, args.trust_checkpoint, args.weights)
    for note in loaded.notes:
        log(f"checkpoint: {note}")
    arch = args.arch or loaded.arch
    refuse_unsupported_arch(arch, loaded.state_dict, loaded.path)
    found = structure(loaded.state_dict, loaded.path)
    facts = flag_facts(args)
    resolved = resolve(found, facts, loaded.saved_args, loaded.args_source, arch, f"Checkpoint {loaded.path}")
    values = resolved.values
    check_preprocessing(values, resolved.sources)
    config = infer_config(loaded.state_dict, values["num_heads"], args.image_size, values["global_pool"],
                          float(values["ln_eps"]), values["act"], bool(values["pool_include_prefix"]),
                          path=loaded.path)
    arch_source = "flag --arch" if args.arch else (loaded.args_source if arch else "derived from the shapes")
    for line in [f"architecture = {arch or config.default_architecture_name()}  [{arch_source}]"] + describe(resolved, found):
        log(f"fact: {line}")
    sources = dict(resolved.sources, image_size=resolved.image_size_source, architecture=arch_source)
    return loaded, config, values, arch or config.default_architecture_name(), sources


def write_outputs(args, graphs, metadata, targets, config, state_dict, dtype, sums_dtype, forward_dtype, log):
    staging = tempfile.mkdtemp(prefix=".export-", dir=os.path.dirname(os.path.abspath(args.out)))
    try:
        written = []
        for final_path, kind in targets:
            started = time.time()
            precision = args.precision if kind == "full" else args.dtype
            os.makedirs(os.path.join(staging, kind))
            staged = os.path.join(staging, kind, os.path.basename(final_path))
            files = write_graph(graphs[kind], kind, staged, dict(metadata, **{"dermxai.precision": precision}),
                                args.opset, args.external_data == "always", args.reduce_heads)
            written.append((staged, final_path, files))
            log(f"{kind} graph: traced and written in {time.time() - started:.1f} s"
                + (f" (weights in {os.path.basename(files[-1])})" if len(files) > 1 else ""))
        if args.verify:
            from verify import verify
            graph_files = [(kind, staged) for (staged, _, _), (_, kind) in zip(written, targets)]
            if not verify(config, state_dict, dtype, sums_dtype, forward_dtype, graph_files=graph_files,
                          reduced=args.reduce_heads, batch=args.verify_batch, out=log):
                raise ExportError("Verification failed: an output is above tolerance (see the lines above).")
            log("verify: all outputs within tolerance")
        mask = os.umask(0)
        os.umask(mask)
        for staged, final_path, files in written:
            folder = os.path.dirname(os.path.abspath(final_path))
            for name in files:
                os.chmod(os.path.join(os.path.dirname(staged), name), 0o666 & ~mask)
                os.replace(os.path.join(os.path.dirname(staged), name), os.path.join(folder, name))
            size = sum(os.path.getsize(os.path.join(folder, name)) for name in files)
            log(f"wrote {final_path} ({size / 1e6:.1f} MB{', ' + str(len(files)) + ' files' if len(files) > 1 else ''})")
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def export(args, log):
    validate_options(args)
    loaded, config, values, arch, sources = prepare(args, log)
    labels = read_labels(args.labels, config.num_classes)
    log(f"model: {arch}, depth {config.depth}, width {config.width}, heads {config.num_heads}, patch "
        f"{config.patch_size}, image {config.image_size}, classes {config.num_classes}, prefix tokens "
        f"{config.prefix_tokens}, readout {config.readout}")
    dtype = DTYPES[args.dtype]
    sums_dtype = torch.float64 if dtype == torch.float64 else DTYPES[args.lrp_sums_dtype]
    forward_dtype = torch.float64 if args.precision == "mixed" else dtype
    args.precision = "float64" if dtype == torch.float64 else args.precision
    log(f"precision: {args.precision}")
    if not args.skip_timm_check:
        check_against_timm(config, loaded.state_dict, log)
    metadata = contract_metadata(config, dict(values, arch=arch), sha256_of_file(loaded.path), labels, args.dtype)
    metadata.update({"dermxai.weights": loaded.weights, "dermxai.sources": json.dumps(sources)})
    # Only the LRP methods amplify the forward pass's rounding (README, "Precision"): the gradient and
    # forward graphs compute in the graph dtype throughout, `mixed` or not.
    plain = VitGraph(config, loaded.state_dict, dtype, sums_dtype)
    graphs = {"full": VitGraph(config, loaded.state_dict, dtype, sums_dtype, forward_dtype), "gradient": plain,
              "forward": plain}
    targets = [(graph_path(args.out, kind), kind) for kind in args.graph_kinds]
    write_outputs(args, graphs, metadata, targets, config, loaded.state_dict, dtype, sums_dtype, forward_dtype, log)


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
