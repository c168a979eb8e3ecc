"""The exported graph set run by ONNX Runtime (through tools/GraphRunner, C#) on the golden `small`
model in float64: multi-target rows (B images, R rows, target_image) equal the one-row-per-image
runs of contract v1 with the image repeated; the gradient and forward files give the full file's
outputs. Needs `dotnet` (skipped, saying so, without it)."""
import shutil

import numpy as np
import pytest

from test_export_cli import SMALL_ARGS
from test_export_support import load_golden, rel_err

import export
from graph_runner import run_file

pytestmark = pytest.mark.skipif(shutil.which("dotnet") is None,
                                reason="dotnet is not installed: tools/GraphRunner cannot run the files")

TARGET_IMAGE = np.array([0, 2, 2, 1, 0])
TARGET_CLASS = np.array([-1, 1, 3, -1, 6])


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


def test_minus_one_resolves_to_each_rows_own_image(multi_target):
    predicted = multi_target["logits"].argmax(-1)
    assert multi_target["target"].tolist() == [predicted[0], 1, 3, predicted[1], 6]


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
