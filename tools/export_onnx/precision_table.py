#!/usr/bin/env python3
"""The precision table (README, "Precision"): for the golden sets, how far each method's map moves
when the graph computes in float64, `mixed` (float32 graph, float64 forward pass) or float32.

python3 tools/export_onnx/precision_table.py [--sets small,tiny224] [--timing]

Every case of a set runs batched through the exported computation (`VitGraph`, the module that is
traced) at each precision, on the golden pixels rounded to the graph's input type; the maps are
computed in numpy from the graph's tensors (`tests/python/test_export_support.method_maps`) and
compared with the float64 graph's map: max |map − map64| / max |map64|, worst over the cases (and
over start layers 0 and 1 where a method has both). The float64 row compares with the golden maps of
the reference implementation instead; the last row of a set is the reference implementation's own
float32 error as the golden manifest records it. --timing adds the median wall time of `explain` per precision
(torch eager on this machine's CPU: a relative cost, not ONNX Runtime's)."""
import argparse
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "python"))

from checkpoint import infer_config, load_checkpoint_file  # noqa: E402
from test_export_support import GOLDEN_SETS, golden_tensor, load_golden, method_maps  # noqa: E402
from vit_graph import VitGraph  # noqa: E402

METHODS = ("transformer_attribution", "lrp_rollout", "partial_lrp", "generic_attention", "attention_rollout",
           "raw_attention", "attention_gradcam")
PRECISIONS = {"float64": (torch.float64, None), "mixed": (torch.float32, torch.float64),
              "float32": (torch.float32, None)}


def case_maps(name, precision, timing):
    folder, manifest, pixels = load_golden(name)
    state_dict = load_checkpoint_file(str(folder / "model.pth"))
    config = infer_config(state_dict, GOLDEN_SETS[name]["num_heads"])
    cases = manifest["cases"]
    dtype, forward_dtype = PRECISIONS[precision]
    x = torch.tensor(pixels[[c["image_index"] for c in cases]]).to(dtype)
    targets = torch.tensor([c["requested_target"] for c in cases])
    graph = VitGraph(config, state_dict, dtype, forward_dtype=forward_dtype)
    seconds = []
    with torch.no_grad():
        for _ in range(3 if timing else 1):
            started = time.perf_counter()
            _, _, attn, grad, rel = graph.explain(x, targets)
            seconds.append(time.perf_counter() - started)
    attn, grad, rel = (t.double().numpy() for t in (attn, grad, rel))
    maps = [method_maps(attn[:, i], grad[:, i], rel[:, i], config.grid) for i in range(len(cases))]
    return cases, maps, float(np.median(seconds)) / len(cases)


def worst_errors(maps, exact):
    """method -> worst max relative error over the cases and start layers."""
    worst = {}
    for got, want in zip(maps, exact):
        for key, value in got.items():
            method = key.rsplit("_s", 1)[0] if key[-3:-1] == "_s" else key
            scale = max(np.abs(want[key]).max(), 1e-300)
            worst[method] = max(worst.get(method, 0.0), float(np.abs(value - want[key]).max() / scale))
    return worst


def reference_float32(cases, method):
    """The reference implementation's own float32 error (the manifest's ref_float32_rel_err), worst case."""
    errs = [info["ref_float32_rel_err"] for case in cases for key, info in case["maps"].items()
            if key == method or key.rsplit("_s", 1)[0] == method]
    return f"{max(errs):.1e}" if errs else "—"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", default=",".join(sorted(GOLDEN_SETS)))
    p.add_argument("--timing", action="store_true")
    args = p.parse_args(argv)
    header = ["set", "precision", "compared with"] + list(METHODS) + (["explain ms/image"] if args.timing else [])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name in args.sets.split(","):
        runs = {precision: case_maps(name, precision, args.timing) for precision in PRECISIONS}
        cases, exact, _ = runs["float64"]
        golden = [{key: golden_tensor(name, case["case"], f"map_{key}") for key in case["maps"]} for case in cases]
        for precision, (_, maps, seconds) in runs.items():
            reference = golden if precision == "float64" else exact
            errs = worst_errors([{k: m[k] for k in r} for m, r in zip(maps, reference)], reference)
            row = [name, precision, "golden (reference)" if precision == "float64" else "float64 graph"]
            row += [f"{errs[m]:.1e}" if m in errs else "—" for m in METHODS]
            row += [f"{1000 * seconds:.0f}"] if args.timing else []
            lines.append("| " + " | ".join(row) + " |")
        lines.append("| " + " | ".join([name, "reference float32", "golden (manifest)"]
                                       + [reference_float32(cases, m) for m in METHODS]) + " |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
