"""Helpers for the golden-timm tests (no tests here): the committed timm vectors under tests/golden/timm."""
import json
from pathlib import Path

import numpy as np
import torch

from test_export_support import REPO

TIMM_GOLDEN = REPO / "tests" / "golden" / "timm"
FAMILIES = ("vit_plain", "deit3_layerscale", "dinov2_reg", "deit_distilled", "clip_prenorm", "clip_quickgelu",
            "gap_fcnorm", "qk_norm", "no_cls_token")
# family -> (prefix_tokens, readout) the export must write
LAYOUT = {"vit_plain": (1, "class"), "deit3_layerscale": (1, "class"), "dinov2_reg": (5, "class"),
          "deit_distilled": (2, "class_dist"), "clip_prenorm": (1, "class"), "clip_quickgelu": (1, "class"),
          "gap_fcnorm": (1, "mean_patches"), "qk_norm": (1, "class"), "no_cls_token": (0, "mean_patches")}


def golden_folder(family):
    folder = TIMM_GOLDEN / family
    needed = [folder / name for name in ("model.pth", "config.json", "expected.npz")]
    absent = [str(p.relative_to(REPO)) for p in needed if not p.is_file()]
    assert not absent, f"golden-timm data missing from the repository: {absent} (see tests/golden/timm/README.md)"
    return folder


def load_family(family):
    """(folder, config.json dict, expected arrays, float64 pixel_values [B,3,S,S])."""
    folder = golden_folder(family)
    config = json.loads((folder / "config.json").read_text())
    expected = dict(np.load(folder / "expected.npz"))
    norm = config["pixel_normalisation"]
    pixels = (expected["images_u8"].astype(np.float64) / 255.0 - np.array(norm["mean"])) / np.array(norm["std"])
    return folder, config, expected, torch.tensor(pixels.transpose(0, 3, 1, 2).copy())


def export_flags(family):
    """The flags a user gives for this model: the timm name and what its overrides changed."""
    folder = golden_folder(family)
    config = json.loads((folder / "config.json").read_text())
    flags = ["--checkpoint", str(folder / "model.pth"), "--arch", config["timm_model_name"],
             "--num-heads", str(config["num_heads"])]
    if "global_pool" in config["create_model_kwargs"]:
        flags += ["--global-pool", config["create_model_kwargs"]["global_pool"]]
    return flags


def rel(got, expected):
    got = np.asarray(got.detach().numpy() if torch.is_tensor(got) else got, np.float64)
    return float(np.abs(got - expected).max() / np.abs(expected).max())
