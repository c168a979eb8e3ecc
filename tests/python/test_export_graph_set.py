"""The graph set of one export (docs/contract.md#the-graph-set), in torch: the gradient graph is the
full graph without attn_rel, the forward graph its logits and attn; multi-target rows (one forward
pass per image, target_image picks the image) equal separate single-target runs; --reduce-heads
outputs equal the head reductions of the unreduced outputs, computed here in numpy."""
import numpy as np
import pytest
import torch

from test_export_support import random_vit_state_dict, rel_err

from checkpoint import infer_config
from graph_kinds import ContractGraph
from vit_graph import VitGraph

IMAGES = 3
TARGET_IMAGE = [0, 2, 2, 1, 0]  # R = 5 rows over B = 3 images: repeats, an unordered row, one image twice
TARGET_CLASS = [-1, 1, 3, -1, 4]


@pytest.fixture(scope="module")
def model():
    sd = random_vit_state_dict(seed=5)
    config = infer_config(dict(sd), 2)
    pixels = torch.randn(IMAGES, 3, config.image_size, config.image_size,
                         generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    return sd, config, pixels


def outputs(vit, kind, pixels, target_class=None, target_image=None, reduced=False):
    inputs = (pixels,) if kind == "forward" else (pixels, torch.tensor(target_class), torch.tensor(target_image))
    with torch.no_grad():
        return {name: value.numpy() for name, value in ContractGraph(vit, kind, reduced).outputs(*inputs).items()}


@pytest.mark.parametrize("dtype, forward_dtype", [(torch.float64, None), (torch.float32, torch.float64)])
def test_gradient_and_forward_graphs_equal_the_full_graph(model, dtype, forward_dtype):
    sd, config, pixels = model
    vit = VitGraph(config, sd, dtype, forward_dtype=forward_dtype)
    x = pixels.to(dtype)
    full = outputs(vit, "full", x, TARGET_CLASS, TARGET_IMAGE)
    gradient = outputs(vit, "gradient", x, TARGET_CLASS, TARGET_IMAGE)
    assert list(gradient) == ["logits", "target", "attn", "attn_grad"]
    for name in gradient:
        assert np.array_equal(gradient[name], full[name]), name
    forward = outputs(VitGraph(config, sd, dtype, forward_dtype=forward_dtype), "forward", x)
    assert list(forward) == ["logits", "attn"]
    for name in forward:
        assert np.array_equal(forward[name], full[name]), name


def test_multi_target_rows_equal_separate_single_target_runs(model):
    sd, config, pixels = model
    vit = VitGraph(config, sd, torch.float64)
    rows = outputs(vit, "full", pixels, TARGET_CLASS, TARGET_IMAGE)
    assert rows["logits"].shape[0] == IMAGES and rows["attn"].shape[1] == IMAGES
    assert rows["attn_grad"].shape[1] == rows["attn_rel"].shape[1] == len(TARGET_IMAGE)
    for r, (image, target) in enumerate(zip(TARGET_IMAGE, TARGET_CLASS)):
        alone = outputs(vit, "full", pixels[image:image + 1], [target], [0])
        assert rows["target"][r] == alone["target"][0]
        assert rel_err(rows["logits"][image], alone["logits"][0]) < 1e-12
        assert rel_err(rows["attn"][:, image], alone["attn"][:, 0]) < 1e-12
        assert rel_err(rows["attn_grad"][:, r], alone["attn_grad"][:, 0]) < 1e-11
        assert rel_err(rows["attn_rel"][:, r], alone["attn_rel"][:, 0]) < 1e-9  # LRP amplifies kernel rounding


def test_minus_one_is_the_argmax_of_the_rows_own_image(model):
    sd, config, pixels = model
    got = outputs(VitGraph(config, sd, torch.float64), "gradient", pixels, [-1, -1, -1, 2], [2, 0, 1, 2])
    predicted = got["logits"].argmax(-1)
    assert got["target"].tolist() == [predicted[2], predicted[0], predicted[1], 2]


def test_minus_r_is_the_r_th_ranked_class_of_the_rows_own_image(model):
    sd, config, pixels = model
    got = outputs(VitGraph(config, sd, torch.float64), "gradient", pixels, [-2, -3, -1, -99], [2, 0, 1, 1])
    ranked = np.argsort(-got["logits"], axis=-1, kind="stable")
    last = config.num_classes - 1
    assert got["target"].tolist() == [ranked[2, 1], ranked[0, 2], ranked[1, 0], ranked[1, last]]


def test_one_row_per_image_equals_contract_v1(model):
    """target_image = 0..B-1 gives exactly the outputs of the graph without the input."""
    sd, config, pixels = model
    vit = VitGraph(config, sd, torch.float64)
    with torch.no_grad():
        v1 = vit.explain(pixels, torch.tensor([-1, 0, 4]))
        rows = vit.explain(pixels, torch.tensor([-1, 0, 4]), torch.arange(IMAGES))
    for a, b in zip(v1, rows):
        assert torch.equal(a, b)


def numpy_reductions(kind, full, target_image):
    """docs/methods.md stage 1, written independently of graph_kinds.head_reductions."""
    attn = full["attn"]
    expected = {"logits": full["logits"], "attn_mean": attn.mean(axis=2)}
    if kind == "forward":
        return expected
    grad = full["attn_grad"]
    expected.update(target=full["target"], attn_last=attn[-1:], attn_grad_last=grad[-1:],
                    grad_attn_map=np.maximum(0, grad * attn[:, target_image]).mean(axis=2))
    if kind == "full":
        rel = full["attn_rel"]
        expected.update(grad_rel_map=np.maximum(0, grad * rel).mean(axis=2), rel_map=np.maximum(0, rel).mean(axis=2))
    return expected


@pytest.mark.parametrize("kind", ["full", "gradient", "forward"])
def test_reduced_outputs_are_the_head_reductions_of_the_unreduced(model, kind):
    sd, config, pixels = model
    vit = VitGraph(config, sd, torch.float64)
    unreduced = outputs(vit, kind, pixels, TARGET_CLASS, TARGET_IMAGE)
    reduced = outputs(vit, kind, pixels, TARGET_CLASS, TARGET_IMAGE, reduced=True)
    expected = numpy_reductions(kind, unreduced, TARGET_IMAGE)
    assert set(reduced) == set(expected)
    L, H, N, R = config.depth, config.num_heads, config.tokens, len(TARGET_IMAGE)
    assert reduced["attn_mean"].shape == (L, IMAGES, N, N)
    if kind != "forward":
        assert reduced["grad_attn_map"].shape == (L, R, N, N)
        assert reduced["attn_grad_last"].shape == (1, R, H, N, N)
    for name, value in expected.items():
        assert value.shape == reduced[name].shape, name
        np.testing.assert_allclose(reduced[name], value, rtol=1e-13, atol=1e-300, err_msg=name)
