"""Invariants of the synthetic dermatology generator (tools/synth_derm/synth_derm.py)."""
import filecmp
import json
import os
import sys

import numpy as np
import pytest
from PIL import Image

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tools", "synth_derm"))
import synth_derm  # noqa: E402

COUNT = 12


def generated(root, count=COUNT, **kwargs):
    return synth_derm.generate(str(root), count, kwargs.pop("seed", 7), **kwargs)


@pytest.fixture(scope="module")
def one_set(tmp_path_factory):
    root = tmp_path_factory.mktemp("set")
    return root, generated(root)


def all_files(root):
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


def test_same_seed_gives_byte_identical_files_whatever_the_worker_count(tmp_path, one_set):
    root, _ = one_set
    again = tmp_path / "again"
    generated(again, workers=2)
    assert all_files(root) == all_files(again)
    _, mismatch, errors = filecmp.cmpfiles(root, again, all_files(root), shallow=False)
    assert mismatch == [] and errors == []


def test_another_seed_gives_other_pixels(tmp_path, one_set):
    root, manifest = one_set
    other = generated(tmp_path, count=1, seed=8)
    first = np.asarray(Image.open(root / manifest["images"][0]["image"]).convert("RGB"))
    second = np.asarray(Image.open(tmp_path / other["images"][0]["image"]).convert("RGB"))
    assert first.shape != second.shape or np.abs(first.astype(int) - second).mean() > 5


def test_every_class_appears_and_labels_file_matches(one_set):
    root, manifest = one_set
    labels = (root / "labels.txt").read_text().split()
    assert labels == synth_derm.LABELS and len(labels) >= 6
    classes = [r["class_index"] for r in manifest["images"]]
    assert sorted(set(classes)) == list(range(len(labels)))
    assert all(labels[r["class_index"]] == r["label"] for r in manifest["images"])


def test_photos_have_phone_like_sizes_and_recorded_dimensions(one_set):
    root, manifest = one_set
    for record in manifest["images"]:
        with Image.open(root / record["image"]) as image:
            assert image.size == (record["width"], record["height"])
            assert image.format == {"png": "PNG", "jpeg": "JPEG"}[record["format"]]
            assert image.mode == "RGB"
        assert 260 <= min(image.size) and max(image.size) <= 480


def test_masks_are_binary_sized_like_the_photo_and_disjoint(one_set):
    root, manifest = one_set
    for record in manifest["images"]:
        lesion = np.asarray(Image.open(root / record["lesion_mask"]))
        artifact = np.asarray(Image.open(root / record["artifact_mask"]))
        assert lesion.shape == artifact.shape == (record["height"], record["width"])
        assert set(np.unique(lesion)) <= {0, 255} and set(np.unique(artifact)) <= {0, 255}
        assert (lesion > 0).mean() > 0.005, record["name"]
        assert not np.logical_and(lesion > 0, artifact > 0).any(), record["name"]
        assert ((artifact > 0).any()) == bool(record["artifacts"]), record["name"]


def test_lesion_lies_in_what_the_eval_centre_crop_keeps(one_set):
    root, manifest = one_set
    for record in manifest["images"]:
        lesion = np.asarray(Image.open(root / record["lesion_mask"])) > 0
        h, w = lesion.shape
        short = min(h, w)
        keep = short * 224 / 248  # the centre square timm's eval transform keeps, in photo pixels
        top, left = int((h - keep) / 2), int((w - keep) / 2)
        inside = lesion[top:top + int(keep), left:left + int(keep)].sum()
        assert inside / lesion.sum() > 0.95, record["name"]


def test_tones_and_backgrounds_cover_their_ranges_in_a_small_set(one_set):
    _, manifest = one_set
    assert {r["fitzpatrick"] for r in manifest["images"]} == {1, 2, 3, 4, 5, 6}
    assert {r["background"] for r in manifest["images"]} == set(synth_derm.BACKGROUNDS)


def test_tone_is_not_tied_to_the_class_over_a_full_cycle():
    tones = {}
    for index in range(36):
        class_index, tone_index, _ = synth_derm.balanced_design(index)
        tones.setdefault(class_index, set()).add(tone_index)
    assert all(len(t) == 6 for t in tones.values())


def test_shortcut_switch_puts_the_artifact_on_that_class_only(tmp_path):
    manifest = generated(tmp_path, count=24, shortcut={"class": 2, "artifact": "sticker", "rate": 1.0})
    for record in manifest["images"]:
        has_sticker = any(a["kind"] == "sticker" for a in record["artifacts"])
        assert has_sticker == (record["class_index"] == 2), record["name"]
    assert manifest["shortcut"] == {"class": 2, "artifact": "sticker", "rate": 1.0}


def test_manifest_is_json_with_the_generator_settings(one_set):
    root, _ = one_set
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["seed"] == 7 and manifest["count"] == COUNT and manifest["synthetic"] is True
    assert len(manifest["images"]) == COUNT


def test_forced_artifact_lands_on_every_photo(tmp_path):
    manifest = generated(tmp_path, count=6, forced_artifacts=("ruler",))
    assert all(any(a["kind"] == "ruler" for a in r["artifacts"]) for r in manifest["images"])


def test_committed_samples_are_what_the_documented_command_makes(tmp_path):
    samples = os.path.join(REPO, "samples")
    synth_derm.main(["--out", str(tmp_path), "--count", "12", "--seed", "2026", "--prefix", "sample_",
                     "--background-heavy-rate", "0.5"])
    made = all_files(tmp_path)
    assert made == [f for f in all_files(samples) if f != "README.md"]
    _, mismatch, errors = filecmp.cmpfiles(samples, tmp_path, made, shallow=False)
    assert mismatch == [] and errors == []
