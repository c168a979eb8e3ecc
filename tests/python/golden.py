"""The golden sets in tests/golden (README there): paths, manifests, case arrays, network inputs.
A missing set fails the test that asked for it with the reason, never an empty parametrisation."""
import functools
import json
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden"


def golden_folder(name):
    folder = GOLDEN / name
    if not (folder / "manifest.json").is_file():
        raise FileNotFoundError(f"golden set {folder} is missing its manifest.json: the golden sets are "
                                "part of the repository (tests/golden); restore them with git checkout")
    return folder


def read_manifest(name):
    return json.loads((golden_folder(name) / "manifest.json").read_text())


def pixel_values(folder, manifest):
    """(imgK.png / 255 − mean) / std in float64 for every image of a model set, [K,3,S,S]."""
    model = manifest["model"]
    mean = np.array(model["mean"], np.float64).reshape(3, 1, 1)
    std = np.array(model["std"], np.float64).reshape(3, 1, 1)
    count = 1 + max(c["image_index"] for c in manifest["cases"])
    images = [read_rgb(folder / "images" / f"img{k}.png") for k in range(count)]
    return np.stack([(image.transpose(2, 0, 1) / 255.0 - mean) / std for image in images])


def load_golden(name):
    folder, manifest = golden_folder(name), read_manifest(name)
    return folder, manifest, pixel_values(folder, manifest)


@functools.lru_cache(maxsize=64)
def _case_arrays(name, case):
    with np.load(golden_folder(name) / "cases" / f"{case}.npz") as archive:
        return {key: archive[key] for key in archive.files}


def golden_tensor(name, case, tensor):
    arrays = _case_arrays(name, case)
    if tensor not in arrays:
        raise KeyError(f"golden {name}/{case} has no '{tensor}' (has: {', '.join(sorted(arrays))})")
    return arrays[tensor]


def read_rgb(path):
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)


def preprocess_cases():
    """The preprocess set's cases, each with the absolute paths of its photo and expected crop."""
    folder = golden_folder("preprocess")
    cases = read_manifest("preprocess")
    return [dict(c, path=str(folder / c["file"]), expected_path=str(folder / c["expected"])) for c in cases]


def expected_preprocess(case):
    """torchvision's normalised [3,224,224] tensor for a preprocess case, in float64."""
    mean = np.array(case["mean"], np.float64).reshape(3, 1, 1)
    std = np.array(case["std"], np.float64).reshape(3, 1, 1)
    return (read_rgb(case["expected_path"]).transpose(2, 0, 1) / 255.0 - mean) / std
