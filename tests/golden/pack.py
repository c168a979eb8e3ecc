"""Packs the published reference code's golden output into the compact sets the tests read.

    /usr/bin/python3 tests/golden/pack.py --reference REFERENCE_GOLDEN_DIR --out tests/golden

REFERENCE_GOLDEN_DIR holds `small/`, `tiny224/` and `preprocess/` as the reference run wrote them
(one .npy per tensor). What changes on the way (README.md, "What was packed"):
- each case's arrays go into one compressed `cases/caseNN.npz` under the same names;
- attn / attn_grad / attn_rel are kept for the TENSOR_CASES only, rounded to float32 (the tests
  hold float64 results to 1e-6 relative; the rounding is ≤ 6e-8); for the LAST_BLOCK_CASES only the
  last block's attn and attn_grad are kept (`attn_last_block`, `attn_grad_last_block`, [H,N,N]: all
  that attention_gradcam and raw_attention read); maps and logits stay float64;
- `pixel_values.npy` is dropped: it is (PNG / 255 − mean) / std in float64, recomputed exactly from
  the images;
- each preprocess tensor is stored as the 8-bit image it was computed from (`expected/NAME.png`):
  torchvision's ToTensor divides the resized 8-bit image by 255, so the PNG holds the same values.
"""
import argparse
import json
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

TENSOR_CASES = {"small": ("case00", "case03"), "tiny224": ()}
LAST_BLOCK_CASES = {"small": (), "tiny224": ("case00",)}
TENSORS = ("attn", "attn_grad", "attn_rel")


def pack_model_set(source, target, tensor_cases, last_block_cases):
    target.mkdir(parents=True, exist_ok=True)
    for name in ("model.pth", "labels.txt"):
        shutil.copyfile(source / name, target / name)
    shutil.copytree(source / "images", target / "images", dirs_exist_ok=True)
    manifest = json.loads((source / "manifest.json").read_text())
    (target / "cases").mkdir(exist_ok=True)
    for case in manifest["cases"]:
        folder = source / "cases" / case["case"]
        keep_tensors = case["has_tensors"] and case["case"] in tensor_cases
        keep_last_block = case["has_tensors"] and case["case"] in last_block_cases
        arrays = {}
        for path in sorted(folder.glob("*.npy")):
            if path.stem not in TENSORS:
                arrays[path.stem] = np.load(path)
            elif keep_tensors:
                arrays[path.stem] = np.load(path).astype(np.float32)
            elif keep_last_block and path.stem != "attn_rel":
                arrays[path.stem + "_last_block"] = np.load(path)[-1].astype(np.float32)
        np.savez_compressed(target / "cases" / f"{case['case']}.npz", **arrays)
        case["has_tensors"] = keep_tensors
        case["has_last_block"] = keep_last_block
    manifest["tensor_dtype"] = "float32"
    (target / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def pack_preprocess(source, target):
    (target / "expected").mkdir(parents=True, exist_ok=True)
    manifest = json.loads((source / "manifest.json").read_text())
    for case in manifest:
        shutil.copyfile(source / case["file"], target / case["file"])
        tensor = np.load(source / case["tensor"]).astype(np.float64)
        mean = np.array(case["mean"]).reshape(3, 1, 1)
        std = np.array(case["std"]).reshape(3, 1, 1)
        scaled = (tensor * std + mean) * 255
        levels = np.round(scaled)
        if np.abs(scaled - levels).max() > 1e-3:
            raise SystemExit(f"{case['tensor']} is not an 8-bit image after undoing the normalisation")
        expected = f"expected/{case['file']}.png"
        Image.fromarray(levels.astype(np.uint8).transpose(1, 2, 0)).save(target / expected)
        del case["tensor"]
        case["expected"] = expected
    (target / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, required=True, help="the reference run's golden folder")
    parser.add_argument("--out", type=Path, required=True, help="where the packed sets go (tests/golden)")
    args = parser.parse_args()
    for name, tensor_cases in TENSOR_CASES.items():
        pack_model_set(args.reference / name, args.out / name, tensor_cases, LAST_BLOCK_CASES[name])
    pack_preprocess(args.reference / "preprocess", args.out / "preprocess")


if __name__ == "__main__":
    main()
