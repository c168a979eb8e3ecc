"""The exported graph set run by ONNX Runtime (through tools/GraphRunner, C#) on the golden `small`
model in float64: multi-target rows (B images, R rows, target_image) equal the one-row-per-image
runs of contract v1 with the image repeated; the gradient and forward files give the full file's
outputs. Needs `dotnet` (skipped, saying so, without it)."""
import shutil

import numpy as np
import pytest
import torch

from test_export_cli import SMALL, SMALL_ARGS
from test_export_support import load_golden, rel_err

import export
from graph_runner import run_file

pytestmark = pytest.mark.skipif(shutil.which("dotnet") is None,
                                reason="dotnet is not installed: tools/GraphRunner cannot run the files")

SMALL_CHECKPOINT = SMALL / "model.pth"
TARGET_IMAGE = np.array([0, 2, 2, 1, 0])
TARGET_CLASS = np.array([-1, 1, -3, -2, 6])


@pytest.fixture(scope="module")
def graph_set(tmp_path_factory):
    folder = tmp_path_factory.mktemp("graph_set")
    out = folder / "small.onnx"
    assert export.main(SMALL_ARGS + ["--out", str(out), "--dtype", "float64", "--skip-timm-check"]) == 0
    _, _, pixels = load_golden("small")
    return out, pixels[:3]


def run(path, *args, **kwargs):
    outputs, how = run_file(str(path), *args, **kwargs)
    assert outputs is not None, how
    return outputs


@pytest.fixture(scope="module")
def multi_target(graph_set):
    path, pixels = graph_set
    return run(path, pixels, TARGET_CLASS, target_image=TARGET_IMAGE)


def test_multi_target_rows_equal_one_row_per_image_runs(graph_set, multi_target):
    path, pixels = graph_set
    repeated = run(path, pixels[TARGET_IMAGE], TARGET_CLASS)  # contract v1: the image once per row
    assert multi_target["logits"].shape == (3, 7) and multi_target["attn_grad"].shape[1] == len(TARGET_IMAGE)
    assert np.array_equal(multi_target["target"], repeated["target"])
    assert rel_err(multi_target["logits"][TARGET_IMAGE], repeated["logits"]) < 1e-12
    assert rel_err(multi_target["attn"][:, TARGET_IMAGE], repeated["attn"]) < 1e-12
    assert rel_err(multi_target["attn_grad"], repeated["attn_grad"]) < 1e-11
    assert rel_err(multi_target["attn_rel"], repeated["attn_rel"]) < 1e-9


def test_negative_targets_resolve_to_ranks_of_each_rows_own_image(multi_target):
    ranked = np.argsort(-multi_target["logits"], axis=-1, kind="stable")
    assert multi_target["target"].tolist() == [ranked[0, 0], 1, ranked[2, 2], ranked[1, 1], 6]


def test_equal_logits_rank_the_lower_class_first(tmp_path):
    """A head of zeros gives every class the logit 0: rank r is class r - 1, as the engine ranks."""
    state = torch.load(SMALL_CHECKPOINT, map_location="cpu")
    state["head.weight"].zero_()
    state["head.bias"].zero_()
    checkpoint, out = tmp_path / "tied.pth", tmp_path / "tied.onnx"
    torch.save(state, checkpoint)
    args = SMALL_ARGS + ["--out", str(out), "--dtype", "float64", "--skip-timm-check", "--no-forward-graph"]
    args[args.index("--checkpoint") + 1] = str(checkpoint)
    assert export.main(args) == 0
    _, _, pixels = load_golden("small")
    got = run(out.with_suffix(".gradient.onnx"), pixels[:1], [-1, -2, -7, -5, -99], target_image=[0] * 5)
    assert np.all(got["logits"] == 0)
    assert got["target"].tolist() == [0, 1, 6, 4, 6]


def test_gradient_and_forward_files_give_the_full_files_outputs(graph_set, multi_target):
    path, pixels = graph_set
    gradient = run(path.with_suffix(".gradient.onnx"), pixels, TARGET_CLASS, target_image=TARGET_IMAGE)
    assert sorted(gradient) == ["attn", "attn_grad", "logits", "target"]
    for name, value in gradient.items():
        assert rel_err(value, multi_target[name]) < 1e-12 if name != "target" else np.array_equal(value, multi_target[name])
    forward = run(path.with_suffix(".forward.onnx"), pixels)
    assert sorted(forward) == ["attn", "logits"]
    for name, value in forward.items():
        assert rel_err(value, multi_target[name]) < 1e-12, name


@pytest.fixture(scope="module")
def reduced_set(graph_set):
    path, _ = graph_set
    out = path.with_name("small_reduced.onnx")
    assert export.main(SMALL_ARGS + ["--out", str(out), "--dtype", "float64", "--skip-timm-check",
                                     "--reduce-heads"]) == 0
    return out


def head_reductions_in_numpy(full, target_image):
    attn, grad, rel = full["attn"], full["attn_grad"], full["attn_rel"]
    return {"logits": full["logits"], "target": full["target"], "attn_mean": attn.mean(axis=2),
            "grad_attn_map": np.maximum(0, grad * attn[:, target_image]).mean(axis=2),
            "grad_rel_map": np.maximum(0, grad * rel).mean(axis=2), "rel_map": np.maximum(0, rel).mean(axis=2),
            "attn_last": attn[-1:], "attn_grad_last": grad[-1:]}


@pytest.mark.parametrize("graph, names", [
    ("", ["attn_grad_last", "attn_last", "attn_mean", "grad_attn_map", "grad_rel_map", "logits", "rel_map", "target"]),
    (".gradient", ["attn_grad_last", "attn_last", "attn_mean", "grad_attn_map", "logits", "target"]),
    (".forward", ["attn_mean", "logits"])])
def test_reduced_files_give_the_head_reductions_of_the_unreduced_outputs(graph_set, multi_target, reduced_set,
                                                                          graph, names):
    _, pixels = graph_set
    path = reduced_set.with_suffix(f"{graph}.onnx")
    if graph == ".forward":
        got = run(path, pixels)
    else:
        got = run(path, pixels, TARGET_CLASS, target_image=TARGET_IMAGE)
    assert sorted(got) == names
    expected = head_reductions_in_numpy(multi_target, TARGET_IMAGE)
    for name in names:
        assert got[name].shape == expected[name].shape, name
        assert rel_err(got[name], expected[name]) < 1e-12, name
