"""Golden conformance of the exported computation (torch side; the ORT side runs in the C# tests):
float64 reproduces every golden tensor and map to 1e-6 relative; the float32 graph at the export's
default precision ('mixed': float64 forward pass) is held to the golden README's tolerance where
the reference's own float32 error is below 1e-3 and reported elsewhere; plain float32 LRP maps depend on the CPU's
float32 kernels and are reported only (tools/export_onnx/README.md, "Precision")."""
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
    """The attention tensors are kept for the first small cases only (tests/golden/README.md); tiny224 is
    held to its maps, which the tensors determine."""
    name, (_, cases, out) = golden64
    with_tensors = [(i, c) for i, c in enumerate(cases) if c["has_tensors"]]
    assert with_tensors or name == "tiny224", f"golden set {name} lost its tensor cases"
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


LRP_MAPS = ("transformer_attribution", "lrp_rollout", "partial_lrp")


def float32_rows(golden):
    """One row per (case, map): our error and Spearman against float64 beside the reference's own."""
    name, (config, cases, out) = golden
    for i, case in enumerate(cases):
        maps = method_maps(out["attn"][:, i], out["attn_grad"][:, i], out["attn_rel"][:, i], config.grid)
        for method, info in case["maps"].items():
            expected = golden_tensor(name, case["case"], f"map_{method}")
            yield dict(set=name, case=case["case"], map=method, err=rel_err(maps[method], expected),
                       rho=spearman(maps[method], expected), **info)


def print_table(rows, label, capsys):
    """Per map: how many tolerance-checked pairs are within the README tolerance, the worst error as a
    multiple of the tolerance, and the lowest Spearman of ours and of the reference's float32."""
    lines = [f"[{label}] {'set':<8} {'map':<30} {'within':>7} {'worst ×tol':>10} {'ρ ours':>7} {'ρ ref32':>7}"]
    for key in sorted({(r["set"], r["map"]) for r in rows}):
        group = [r for r in rows if (r["set"], r["map"]) == key]
        checked = [r for r in group if r["ref_float32_rel_err"] < 1e-3]
        within = sum(r["err"] <= r["tolerance"] for r in checked)
        worst = max((r["err"] / r["tolerance"] for r in checked), default=float("nan"))
        lines.append(f"[{label}] {key[0]:<8} {key[1]:<30} {within:>3}/{len(checked):<3} {worst:>10.2f} "
                     f"{min(r['rho'] for r in group):>7.4f} {min(r['ref_float32_spearman'] for r in group):>7.4f}")
    with capsys.disabled():
        print("\n" + "\n".join(lines))


def failures(rows, include_lrp=True):
    """README check 2: within the tolerance where ref_float32_rel_err < 1e-3; elsewhere Spearman ≥ the
    reference's own minus a margin (a clearly lower one is a bug)."""
    bad = []
    for r in rows:
        if not include_lrp and r["map"].startswith(LRP_MAPS):
            continue
        if r["ref_float32_rel_err"] < 1e-3 and r["err"] > r["tolerance"]:
            bad.append((r["set"], r["case"], r["map"], r["err"], r["tolerance"]))
        if r["ref_float32_rel_err"] >= 1e-3 and r["rho"] < r["ref_float32_spearman"] - 0.05:
            bad.append((r["set"], r["case"], r["map"], "spearman", r["rho"], r["ref_float32_spearman"]))
    return bad


def test_float32_maps_within_readme_tolerance_and_rank_order_reported(golden32, capsys):
    """The default float32 export (--precision mixed: float64 forward) meets the README tolerance on
    every map: its error is set by the float32 rounding of the input pixels, not by the CPU."""
    rows = list(float32_rows(golden32))
    print_table(rows, "f32 mixed", capsys)
    assert not failures(rows)


def test_plain_float32_maps_reported(golden32_plain, capsys):
    """--precision float32 (opt-in): the LRP maps amplify float32 rounding of the forward pass ~1e4-fold,
    so how close they come depends on the CPU's BLAS kernels. They are reported, not asserted; the
    gradient- and attention-only maps are well conditioned and held to the tolerance."""
    rows = list(float32_rows(golden32_plain))
    print_table(rows, "f32 plain", capsys)
    assert not failures(rows, include_lrp=False)
