"""The LRP rules for the pieces the timm families add (docs/model-families.md, "Relevance rules"):
the batched graph against the independent per-image reference (autograd-style relprop) for every
family, on the golden-timm models, plus the rules' own properties."""
import pytest
import torch

from timm_golden import FAMILIES, export_flags, load_family, rel

import export
from lrp_rules import linear_relevance, pool_relevance
from reference_impl import ReferenceVit
from vit_graph import VitGraph


def family_model(family, tmp_path):
    args = export.build_parser().parse_args(export_flags(family) + ["--out", str(tmp_path / "m.onnx")])
    loaded, config, *_ = export.prepare(args, lambda line: None)
    return loaded.state_dict, config


@pytest.mark.parametrize("family", FAMILIES)
def test_relevance_equals_the_per_image_reference_rules(family, tmp_path):
    state_dict, config = family_model(family, tmp_path)
    _, _, expected, pixels = load_family(family)
    targets = [-1, int(expected["targets_explicit"][1]), config.num_classes - 1]
    with torch.no_grad():
        logits, target, _, attn_grad, attn_rel = VitGraph(config, state_dict, torch.float64).explain(
            pixels, torch.tensor(targets))
    reference = ReferenceVit(config, state_dict)
    for i, t in enumerate(targets):
        ref = reference.explain(pixels[i], t)
        assert int(target[i]) == ref["target"]
        assert rel(attn_grad[:, i], ref["attn_grad"].numpy()) <= 1e-12
        assert rel(attn_rel[:, i], ref["attn_rel"].numpy()) <= 1e-9, family


@pytest.mark.parametrize("family", ["dinov2_reg", "deit_distilled", "no_cls_token"])
def test_a_batch_gives_the_relevance_of_its_images_one_by_one(family, tmp_path):
    state_dict, config = family_model(family, tmp_path)
    _, _, _, pixels = load_family(family)
    graph = VitGraph(config, state_dict, torch.float64)
    targets = torch.tensor([-1, 0, config.num_classes - 1])
    with torch.no_grad():
        batch = graph.explain(pixels, targets)[4]
        for i in range(len(targets)):
            alone = graph.explain(pixels[i:i + 1], targets[i:i + 1])[4]
            assert rel(batch[:, i:i + 1], alone.numpy()) <= 1e-9  # batched kernels round differently; LRP amplifies it


def test_mean_pooling_rule_conserves_relevance_over_the_pooled_rows():
    g = torch.Generator().manual_seed(0)
    tokens = torch.randn(2, 7, 5, generator=g, dtype=torch.float64)
    rows = torch.zeros(1, 7, 1, dtype=torch.float64)
    rows[0, 2:] = 1 / 5  # two prefix tokens left out
    pooled = tokens[:, 2:].mean(dim=1)
    relevance = torch.randn(2, 5, generator=g, dtype=torch.float64)
    r_tokens = pool_relevance(tokens, rows, pooled, relevance)
    assert torch.all(r_tokens[:, :2] == 0)
    assert torch.allclose(r_tokens.sum(dim=1), relevance, rtol=1e-7)  # up to the safe-divide epsilon


def test_distilled_readout_rule_is_the_linear_rule_on_both_rows_and_scale_free():
    g = torch.Generator().manual_seed(1)
    pair = torch.randn(3, 8, generator=g, dtype=torch.float64)
    weight = torch.randn(4, 8, generator=g, dtype=torch.float64)
    one_hot = torch.eye(4, dtype=torch.float64)[[0, 2, 3]]
    halved = linear_relevance(pair, weight / 2, one_hot)
    assert torch.allclose(halved, linear_relevance(pair, weight, one_hot), rtol=1e-12)
    positive = torch.clamp(pair, min=0) @ torch.clamp(weight, min=0).t() + torch.clamp(pair, max=0) @ torch.clamp(weight, max=0).t()
    assert torch.allclose(halved.sum(dim=1), (one_hot * (positive != 0)).sum(dim=1), rtol=1e-7)


def test_average_pooling_over_prefix_tokens_reads_every_row(tmp_path):
    """timm's pool_include_prefix: readout `mean_tokens`, the graph equal to the reference."""
    args = export.build_parser().parse_args(export_flags("dinov2_reg") + [
        "--out", str(tmp_path / "m.onnx"), "--global-pool", "avg", "--pool-include-prefix", "true"])
    loaded, config, _, _, sources = export.prepare(args, lambda line: None)
    assert (config.readout, sources["pool_include_prefix"]) == ("mean_tokens", "flag --pool-include-prefix")
    _, _, _, pixels = load_family("dinov2_reg")
    with torch.no_grad():
        logits, _, _, attn_grad, attn_rel = VitGraph(config, loaded.state_dict, torch.float64).explain(
            pixels[:2], torch.tensor([-1, 1]))
    reference = ReferenceVit(config, loaded.state_dict)
    for i, t in enumerate([-1, 1]):
        ref = reference.explain(pixels[i], t)
        assert rel(logits[i], ref["logits"].numpy()) <= 1e-12
        assert rel(attn_grad[:, i], ref["attn_grad"].numpy()) <= 1e-12
        assert rel(attn_rel[:, i], ref["attn_rel"].numpy()) <= 1e-9


def test_verify_never_allows_float32_relevance_above_one_percent():
    import verify
    assert verify.FLOAT32_REL_CEILING == 1e-2
    assert verify.spearman([1.0, 2.0, 3.0, 3.0], [10.0, 20.0, 30.0, 30.0]) == pytest.approx(1.0)
