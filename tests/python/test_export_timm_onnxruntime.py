"""The exported files themselves, run by ONNX Runtime (through tools/GraphRunner, C#), against real
timm: float64 files equal timm's logits, attention and attention gradients to 1e-9; the default
float32 files to 1e-4. Needs `dotnet` (skipped, saying so, without it)."""
import shutil

import numpy as np
import pytest

from timm_golden import FAMILIES, export_flags, load_family, rel

import export
from graph_runner import run_file

pytestmark = pytest.mark.skipif(shutil.which("dotnet") is None,
                                reason="dotnet is not installed: tools/GraphRunner cannot run the files")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ort")
    paths = {}
    for family in FAMILIES:
        for dtype in ("float64", "float32"):
            out = folder / f"{family}_{dtype}.onnx"
            assert export.main(export_flags(family) + ["--out", str(out), "--dtype", dtype, "--graphs", "full",
                                                       "--skip-timm-check"]) == 0
            paths[family, dtype] = out
    return paths


@pytest.mark.parametrize("dtype, limit", [("float64", 1e-9), ("float32", 1e-4)])
@pytest.mark.parametrize("family", FAMILIES)
def test_onnx_runtime_runs_the_file_to_timm_numbers(files, family, dtype, limit):
    _, _, expected, pixels = load_family(family)
    for kind in ("pred", "explicit"):
        outputs, how = run_file(str(files[family, dtype]), pixels.numpy().astype(dtype),
                                expected[f"targets_{kind}"])
        assert outputs is not None, how
        assert np.array_equal(outputs["target"], expected[f"targets_{kind}"])
        errors = {"logits": rel(outputs["logits"], expected["logits"]), "attn": rel(outputs["attn"], expected["attn"]),
                  "attn_grad": rel(outputs["attn_grad"], expected[f"attn_grad_{kind}"])}
        assert max(errors.values()) <= limit, (family, dtype, kind, errors)
