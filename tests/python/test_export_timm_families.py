"""Every supported timm ViT family against real timm (tests/golden/timm): the exported computation's
logits, attention and attention gradients equal timm's float64 forward and autograd (≤ 1e-9 relative),
the default float32 export stays within 1e-4, and the file carries the token layout (prefix_tokens,
readout) and the source of every resolved fact."""
import json

import onnx
import pytest
import torch

from timm_golden import FAMILIES, LAYOUT, export_flags, load_family, rel

import export
from vit_graph import VitGraph


def resolved(family, tmp_path, extra=()):
    args = export.build_parser().parse_args(export_flags(family) + ["--out", str(tmp_path / "m.onnx"), *extra])
    lines = []
    loaded, config, values, arch, sources = export.prepare(args, lines.append)
    return loaded, config, sources, lines


@pytest.fixture(scope="module", params=FAMILIES)
def family_run(request, tmp_path_factory):
    family = request.param
    _, _, expected, pixels = load_family(family)
    loaded, config, sources, lines = resolved(family, tmp_path_factory.mktemp(family))
    runs = {}
    for dtype, forward in ((torch.float64, torch.float64), (torch.float32, torch.float64)):
        graph = VitGraph(config, loaded.state_dict, dtype, forward_dtype=forward)
        for kind in ("pred", "explicit"):
            with torch.no_grad():
                runs[dtype, kind] = graph.explain(pixels.to(dtype), torch.tensor(expected[f"targets_{kind}"]))
    return family, config, expected, runs, sources


@pytest.mark.parametrize("dtype, limit", [(torch.float64, 1e-9), (torch.float32, 1e-4)], ids=["float64", "float32"])
def test_logits_attention_and_gradients_equal_timm(family_run, dtype, limit):
    family, _, expected, runs, _ = family_run
    for kind in ("pred", "explicit"):
        logits, target, attn, attn_grad, _ = runs[dtype, kind]
        assert target.tolist() == expected[f"targets_{kind}"].tolist()
        errors = {"logits": rel(logits, expected["logits"]), "attn": rel(attn, expected["attn"]),
                  "attn_grad": rel(attn_grad, expected[f"attn_grad_{kind}"])}
        assert max(errors.values()) <= limit, (family, kind, errors)


def test_token_layout_matches_timm(family_run):
    family, config, expected, _, _ = family_run
    assert (config.prefix_tokens, config.readout) == LAYOUT[family]
    assert config.tokens == expected["attn"].shape[-1]


def test_every_fact_has_a_source(family_run):
    family, _, _, _, sources = family_run
    assert sources["num_heads"] == "flag --num-heads"
    assert sources["ln_eps"].startswith("timm defaults for ") and sources["act"].startswith("timm defaults for ")
    assert sources["image_size"].startswith("weights")


@pytest.fixture(scope="module")
def exported_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("families")
    paths = {}
    for family in FAMILIES:
        out = folder / f"{family}.onnx"
        assert export.main(export_flags(family) + ["--out", str(out), "--dtype", "float64",
                                                   "--graphs", "full", "--skip-timm-check"]) == 0
        paths[family] = out
    return paths


@pytest.mark.parametrize("family", FAMILIES)
def test_metadata_names_prefix_tokens_readout_and_sources(exported_files, family):
    meta = {p.key: p.value for p in onnx.load(str(exported_files[family])).metadata_props}
    assert (int(meta["prefix_tokens"]), meta["readout"]) == LAYOUT[family]
    sources = json.loads(meta["dermxai.sources"])
    assert {"num_heads", "global_pool", "ln_eps", "act", "mean", "std", "crop_pct", "interpolation",
            "image_size", "architecture"} <= set(sources)
    assert meta["dermxai.weights"] == "only"
