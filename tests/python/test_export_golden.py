"""Golden conformance of the exported computation (torch side; the ORT side runs in the C# tests):
float64 reproduces every golden tensor and map to 1e-6 relative; the float32 graph at the export's
default precision ('mixed': float64 forward pass) is held to the golden README's tolerance where
the reference's own float32 error is below 1e-3 and reported elsewhere; plain float32 precision is
reported (it misses the tolerance on a few tiny224 LRP maps, see tools/export_onnx/README.md)."""
import os

import numpy as np
import pytest
import torch

from test_export_support import (GOLDEN_SETS, golden_tensor, load_golden, method_maps, rel_err,
                                 spearman)

from checkpoint import infer_config, load_checkpoint_file
from vit_graph import VitGraph

TENSORS = ("attn", "attn_grad", "attn_rel")


def run_golden(name, dtype, sums_dtype=None, forward_dtype=None):
    folder, manifest, pixels = load_golden(name)
    state_dict = load_checkpoint_file(str(folder / "model.pth"))
    config = infer_config(state_dict, GOLDEN_SETS[name]["num_heads"])
    cases = manifest["cases"]
    x = torch.tensor(pixels[[c["image_index"] for c in cases]]).to(dtype)
    targets = torch.tensor([c["requested_target"] for c in cases])
    with torch.no_grad():
        out = VitGraph(config, state_dict, dtype, sums_dtype, forward_dtype).explain(x, targets)
    logits, target, attn, grad, rel = (t.double().numpy() if t.is_floating_point() else t.numpy() for t in out)
    return config, cases, {"logits": logits, "target": target, "attn": attn, "attn_grad": grad, "attn_rel": rel}


@pytest.fixture(scope="module", params=sorted(GOLDEN_SETS))
def golden64(request):
    return request.param, run_golden(request.param, torch.float64)


# The float32 graph as export.py writes it by default (--precision mixed).
@pytest.fixture(scope="module", params=sorted(GOLDEN_SETS))
def golden32(request):
    return request.param, run_golden(request.param, torch.float32, forward_dtype=torch.float64)


@pytest.fixture(scope="module", params=sorted(GOLDEN_SETS))
def golden32_plain(request):
    return request.param, run_golden(request.param, torch.float32)


def test_float64_reproduces_golden_targets_and_logits(golden64):
    name, (_, cases, out) = golden64
    for i, case in enumerate(cases):
        assert out["target"][i] == case["explained_target"]
        assert rel_err(out["logits"][i], golden_tensor(name, case["case"], "logits")) <= 1e-6


def test_float64_reproduces_golden_tensors(golden64):
    name, (_, cases, out) = golden64
    with_tensors = [(i, c) for i, c in enumerate(cases) if c["has_tensors"]]
    assert with_tensors
    for i, case in with_tensors:
        for tensor in TENSORS:
            err = rel_err(out[tensor][:, i], golden_tensor(name, case["case"], tensor))
            assert err <= 1e-6, (case["case"], tensor, err)


def test_float64_maps_reproduce_every_golden_map(golden64):
    name, (config, cases, out) = golden64
    for i, case in enumerate(cases):
        maps = method_maps(out["attn"][:, i], out["attn_grad"][:, i], out["attn_rel"][:, i], config.grid)
        assert set(maps) == set(case["maps"])
        for method, value in maps.items():
            expected = golden_tensor(name, case["case"], f"map_{method}")
            assert rel_err(value, expected) <= 1e-6, (case["case"], method)


def test_float32_well_conditioned_tensors_stay_close(golden32):
    name, (_, cases, out) = golden32
    for i, case in enumerate(cases):
        assert out["target"][i] == case["explained_target"]
        assert rel_err(out["logits"][i], golden_tensor(name, case["case"], "logits")) <= 1e-4
        if case["has_tensors"]:
            for tensor in ("attn", "attn_grad"):
                assert rel_err(out[tensor][:, i], golden_tensor(name, case["case"], tensor)) <= 1e-4


def check_float32_maps(golden, capsys, slack, label):
    """README check 2: tolerance where ref_float32_rel_err < 1e-3 (times `slack`); elsewhere Spearman ≥
    the reference's own minus a margin (a clearly lower one is a bug). Prints flagged pairs and a
    summary; the whole table with DERMXAI_GOLDEN_REPORT=1."""
    name, (config, cases, out) = golden
    failures, lines, checked_count, above = [], [], 0, 0
    for i, case in enumerate(cases):
        maps = method_maps(out["attn"][:, i], out["attn_grad"][:, i], out["attn_rel"][:, i], config.grid)
        for method, info in case["maps"].items():
            expected = golden_tensor(name, case["case"], f"map_{method}")
            err, rho = rel_err(maps[method], expected), spearman(maps[method], expected)
            checked = info["ref_float32_rel_err"] < 1e-3
            flag = "" if not checked else " ok" if err <= info["tolerance"] else " ABOVE-README-TOLERANCE"
            checked_count += checked
            above += flag == " ABOVE-README-TOLERANCE"
            line = (f"[golden {label}] {name} {case['case']} {method:<28} ours {err:.2e} "
                    f"ref32 {info['ref_float32_rel_err']:.2e} spearman ours {rho:.4f} "
                    f"ref32 {info['ref_float32_spearman']:.4f}{flag}")
            if flag == " ABOVE-README-TOLERANCE" or os.environ.get("DERMXAI_GOLDEN_REPORT"):
                lines.append(line)
            if checked and err > slack * info["tolerance"]:
                failures.append((case["case"], method, err, info["tolerance"]))
            if not checked and rho < info["ref_float32_spearman"] - 0.05:
                failures.append((case["case"], method, "spearman", rho, info["ref_float32_spearman"]))
    with capsys.disabled():
        print("\n" + "\n".join(lines + [f"[golden {label}] {name}: {checked_count - above}/{checked_count} "
                                         "tolerance-checked maps within the README tolerance"]))
    assert not failures


def test_float32_maps_within_readme_tolerance_and_rank_order_reported(golden32, capsys):
    """The default float32 export (--precision mixed) meets the README tolerance on every map
    (measured worst: 0.21x the tolerance, tiny224 case05 lrp_rollout; that is the float32 rounding
    of the input pixels alone)."""
    check_float32_maps(golden32, capsys, 1.0, "f32 mixed")


# Measured: with --precision float32, 4 of the 126 golden (case, map) pairs whose ref_float32_rel_err
# is below 1e-3 exceed the README's tolerance (10x that error) by a factor ≤ 1.25 (tiny224 case04/05,
# the s1 LRP maps: the float32 forward rounds differently from the reference's and the LRP rules
# amplify it ~1e4-fold). Reported and held to 1.5x only; it is the opt-in fast path.
PLAIN_FLOAT32_SLACK = 1.5


def test_plain_float32_maps_within_slack_of_readme_tolerance(golden32_plain, capsys):
    check_float32_maps(golden32_plain, capsys, PLAIN_FLOAT32_SLACK, "f32 plain")
