"""Reading timm ViT checkpoints as users have them: torch.save files (bare state dicts, timm
train.py checkpoints with EMA weights and pickled argparse args, Lightning and DDP / torch.compile
prefixes), safetensors, timm's save_for_hf folders, and whole pickled models behind --trust-checkpoint.
"""
import argparse
import collections
import hashlib
import json
import os
import pickle
import types
from dataclasses import dataclass, field

import torch

from errors import ExportError  # noqa: F401  (re-exported: callers import it from here)
from safetensors_io import looks_like_safetensors, read_safetensors

EMA_KEYS = ("state_dict_ema", "model_ema")
MODEL_KEYS = ("state_dict", "model")
PREFIXES = ("module.", "_orig_mod.", "model.")
HF_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
# Globals a torch.save file may reference without running foreign code: tensor rebuilding, the
# containers a state dict uses, and the argparse.Namespace of timm's train.py `args`.
SAFE_GLOBALS = {
    ("collections", "OrderedDict"), ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_parameter"),
    ("torch._utils", "_rebuild_tensor"), ("torch", "Size"), ("torch", "device"), ("argparse", "Namespace"),
    ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "slice"), ("_codecs", "encode"),
    ("numpy.core.multiarray", "scalar"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
} | {("torch", f"{t}Storage") for t in ("Float", "Double", "Half", "BFloat16", "Long", "Int", "Short",
                                          "Char", "Byte", "Bool")}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in SAFE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"class '{module}.{name}'")


RESTRICTED_PICKLE = types.SimpleNamespace(__name__="restricted_pickle", Unpickler=_RestrictedUnpickler)


@dataclass
class LoadedCheckpoint:
    path: str
    state_dict: dict
    weights: str = "only"            # which set was taken: 'ema', 'model' or 'only' (there was one)
    saved_args: dict = field(default_factory=dict)   # architecture / preprocessing facts saved with it
    args_source: str = ""
    arch: str = None                 # timm model name the checkpoint names, if any
    notes: list = field(default_factory=list)        # what was done, for the log


def sha256_of_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def resolve_weights_file(path):
    """A timm save_for_hf folder names its weights file; anything else is the file itself."""
    if os.path.isdir(path):
        for name in HF_WEIGHT_FILES:
            if os.path.isfile(os.path.join(path, name)):
                return os.path.join(path, name)
        raise ExportError(f"Folder {path} holds neither {' nor '.join(HF_WEIGHT_FILES)}; pass the checkpoint file.")
    if not os.path.isfile(path):
        raise ExportError(f"Checkpoint file {path} does not exist.")
    return path


def _is_zip(path):
    with open(path, "rb") as f:
        return f.read(4) == b"PK\x03\x04"


def _restricted_load(path):
    """torch.load allowing only SAFE_GLOBALS. torch ≥ 2.4 has an allow-list for weights_only; torch
    1.13 has none and ignores pickle_module unless weights_only, so its zip reader is called directly."""
    if hasattr(torch.serialization, "safe_globals"):
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(path, map_location="cpu", weights_only=True)
    with open(path, "rb") as f:
        with torch.serialization._open_zipfile_reader(f) as archive:
            return torch.serialization._load(archive, "cpu", RESTRICTED_PICKLE, encoding="utf-8")


def _torch_load(path, trust_pickle):
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        pass  # Python objects besides tensors (timm train.py args, a whole model), or a damaged file
    except Exception as e:  # zip and format errors all mean "cannot read it"
        raise ExportError(f"Cannot read checkpoint {path} as a torch.save or safetensors file ({type(e).__name__}).")
    if _is_zip(path):
        try:
            return _restricted_load(path)
        except pickle.UnpicklingError as e:
            found = str(e) if str(e).startswith("class '") else f"a Python object ({str(e).splitlines()[-1][:160]})"
            if not trust_pickle:
                raise ExportError(f"Checkpoint {path} holds a pickled Python object, {found} (a whole pickled "
                                  "model or custom class), which loading would execute; pass --trust-checkpoint "
                                  "if you trust the file, or save model.state_dict() instead.")
        except Exception as e:
            raise ExportError(f"Cannot read checkpoint {path} as a torch.save file ({type(e).__name__}).")
    elif not trust_pickle:
        raise ExportError(f"Cannot read checkpoint {path} as a torch.save or safetensors file of tensors "
                          "(UnpicklingError); if it is an old-format torch.save file with Python objects that "
                          "you trust, pass --trust-checkpoint.")
    try:
        return torch.load(path, map_location="cpu")
    except Exception as e:  # the trusted object's own code failed (missing module, ...)
        raise ExportError(f"Cannot load the pickled objects of {path} even with --trust-checkpoint "
                          f"({type(e).__name__}: {e}).")


def _is_state_dict(obj):
    return isinstance(obj, dict) and bool(obj) and all(torch.is_tensor(v) for v in obj.values())


def select_weights(obj, path, choice, loaded):
    """The state dict inside `obj`; choice 'ema' / 'model' / None (timm's load_checkpoint default:
    EMA when present)."""
    if isinstance(obj, torch.nn.Module):
        loaded.notes.append(f"whole pickled model of class {type(obj).__name__} (--trust-checkpoint): its state_dict()")
        obj = obj.state_dict()
    if not isinstance(obj, dict):
        raise ExportError(f"Checkpoint {path} is not a state dict of tensors (found a {type(obj).__name__}).")
    ema = next((k for k in EMA_KEYS if _is_state_dict(obj.get(k))), None)
    plain = next((k for k in MODEL_KEYS if _is_state_dict(obj.get(k))), None)
    if ema is None and plain is None:
        if not _is_state_dict(obj):
            raise ExportError(f"Checkpoint {path} is not a state dict of tensors (bare, or under "
                              f"'state_dict', 'model', 'state_dict_ema' or 'model_ema'; found keys {sorted(obj)[:6]}).")
        if choice == "ema":
            raise ExportError(f"--weights ema was given but {path} holds one bare state dict, no EMA weights.")
        return obj
    if choice == "ema" and ema is None:
        raise ExportError(f"--weights ema was given but {path} has no EMA weights (found '{plain}').")
    if choice == "model" and plain is None:
        raise ExportError(f"--weights model was given but {path} has only EMA weights ('{ema}').")
    key = ema if (choice != "model" and ema is not None) else plain
    loaded.weights = "ema" if key == ema else ("model" if ema is not None else "only")
    if ema is not None and plain is not None:
        other = "--weights model for the non-EMA" if key == ema else "--weights ema for the EMA"
        default = " (default, as timm's load_checkpoint)" if choice is None else ""
        loaded.notes.append(f"weights: '{key}' of '{ema}' and '{plain}'{default}; {other} set")
    else:
        loaded.notes.append(f"weights: '{key}'")
    return obj[key]


def strip_prefixes(state_dict, loaded):
    """DDP `module.`, torch.compile `_orig_mod.`, Lightning `model.` (other Lightning attributes
    such as losses or EMA copies are named and left out)."""
    changed = True
    while changed:
        changed = False
        if any(k.startswith("blocks.") for k in state_dict):
            break
        for prefix in PREFIXES:
            inside = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
            if inside and any(k.startswith(("blocks.", *PREFIXES)) for k in inside):
                left_out = sorted(k for k in state_dict if not k.startswith(prefix))
                note = f"stripped the '{prefix}' prefix"
                if left_out:
                    note += f"; left out {len(left_out)} key(s) outside it, first '{left_out[0]}'"
                loaded.notes.append(note)
                state_dict, changed = inside, True
                break
    return dict(state_dict)


def saved_facts(obj, path, loaded):
    """Facts saved with the weights: timm train.py `args`, or a save_for_hf config.json beside them."""
    if isinstance(obj, dict) and isinstance(obj.get("args"), argparse.Namespace):
        args = vars(obj["args"])
        loaded.args_source = "checkpoint args (timm train.py)"
        loaded.arch = args.get("model") or obj.get("arch")
        kwargs = dict(args.get("model_kwargs") or {})
        facts = {"num_heads": kwargs.get("num_heads"), "global_pool": kwargs.get("global_pool") or args.get("gp"),
                 "image_size": kwargs.get("img_size") or args.get("img_size")
                 or (args.get("input_size") or [None])[-1],
                 "mean": args.get("mean"), "std": args.get("std"), "crop_pct": args.get("crop_pct"),
                 "interpolation": args.get("interpolation") or None, "act": kwargs.get("act_layer"),
                 "pool_include_prefix": kwargs.get("pool_include_prefix")}
        loaded.saved_args = {k: v for k, v in facts.items() if v is not None}
        return
    if isinstance(obj, dict) and isinstance(obj.get("arch"), str):
        loaded.arch = obj["arch"]
    config_path = os.path.join(os.path.dirname(os.path.abspath(path)), "config.json")
    if os.path.isfile(config_path):
        try:
            with open(config_path, encoding="utf-8") as f:
                config = json.load(f)
        except (OSError, ValueError):
            return
        if not isinstance(config, dict) or "architecture" not in config:
            return
        kwargs, cfg = config.get("model_args") or {}, config.get("pretrained_cfg") or {}
        facts = {"num_heads": kwargs.get("num_heads"), "global_pool": kwargs.get("global_pool") or config.get("global_pool"),
                 "image_size": kwargs.get("img_size"), "mean": cfg.get("mean"), "std": cfg.get("std"),
                 "crop_pct": cfg.get("crop_pct"), "interpolation": cfg.get("interpolation"),
                 "act": kwargs.get("act_layer"), "pool_include_prefix": kwargs.get("pool_include_prefix")}
        loaded.saved_args = {k: v for k, v in facts.items() if v is not None}
        loaded.args_source = "config.json beside the checkpoint (timm save_for_hf)"
        loaded.arch = config["architecture"]


def load_checkpoint(path, trust_pickle=False, weights=None):
    """The LoadedCheckpoint of a file or save_for_hf folder; `weights` 'ema' / 'model' / None."""
    path = resolve_weights_file(path)
    loaded = LoadedCheckpoint(path=path, state_dict={})
    try:
        is_safetensors = looks_like_safetensors(path)
    except OSError as e:
        raise ExportError(f"Cannot read checkpoint {path} ({e.strerror}).")
    if is_safetensors:
        obj, _ = read_safetensors(path)
        loaded.notes.append("format: safetensors")
    else:
        obj = _torch_load(path, trust_pickle)
        loaded.notes.append("format: torch.save")
    state_dict = select_weights(obj, path, weights, loaded)
    loaded.state_dict = strip_prefixes(collections.OrderedDict(state_dict), loaded)
    saved_facts(obj, path, loaded)
    return loaded


def load_checkpoint_file(path, trust_pickle=False):
    """The bare state dict of a checkpoint (timm's default weights choice)."""
    return load_checkpoint(path, trust_pickle).state_dict


def unwrap_state_dict(obj):
    loaded = LoadedCheckpoint(path="the checkpoint", state_dict={})
    return strip_prefixes(select_weights(obj, "the checkpoint", None, loaded), loaded)


def infer_config(state_dict, num_heads=None, image_size=None):
    """A plain class-token ViT's config, heads default width / 64 (the golden test sets' models).
    The exporter itself never defaults a fact: it resolves them (resolve.py)."""
    from architecture import infer_config as infer, structure
    width = structure(dict(state_dict))["width"]
    return infer(state_dict, num_heads if num_heads is not None else max(1, width // 64), image_size)
