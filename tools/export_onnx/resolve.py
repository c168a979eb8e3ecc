"""The architecture and preprocessing facts a checkpoint's tensors do not determine, each with its
source: an explicit flag, then the facts saved with the checkpoint (train.py args, save_for_hf
config.json), then timm's defaults for the architecture name (arch_defaults.py). Nothing is guessed:
a fact no source gives is refused, naming its flag."""
from dataclasses import dataclass

from arch_defaults import TIMM_ARCHITECTURES, closest_names
from errors import ExportError

# fact -> flag; the order the log prints them.
FLAGS = {"num_heads": "--num-heads", "global_pool": "--global-pool", "pool_include_prefix": "--pool-include-prefix",
         "ln_eps": "--layernorm-eps", "act": "--act", "mean": "--mean", "std": "--std",
         "crop_pct": "--crop-pct", "interpolation": "--interpolation"}
ACTIVATIONS = {"gelu": "gelu", "quick_gelu": "quick_gelu", "quickgelu": "quick_gelu"}
POOLING_STRUCTURE = ("class_token", "dist_token", "fc_norm", "final_norm")


@dataclass
class Resolved:
    values: dict
    sources: dict
    image_size_source: str
    architecture: str


def _table_value(fact, entry, found, arch):
    """The table's value of `fact` if the entry describes these weights; else (None, why not). The
    pooling applies only when the entry's structure is the weights' (a fine-tune built with another
    global_pool has fc_norm where the entry has a final norm); pool_include_prefix is timm's value
    for the name whatever the pooling."""
    if fact == "num_heads" and entry["width"] != found["width"]:
        return None, f"{arch} has width {entry['width']}, the weights {found['width']}"
    if fact == "global_pool":
        differ = [k for k in POOLING_STRUCTURE if entry.get(k) != found.get(k)]
        if differ:
            return None, f"the weights differ from {arch} in {', '.join(differ)}"
    return entry.get(fact), ""


def resolve(found, flags, saved, saved_source, arch, path="The checkpoint"):
    """found: architecture.structure(); flags: {fact: value or None}; saved: facts saved with the
    checkpoint. Returns Resolved or raises naming every missing fact and its flag."""
    entry = TIMM_ARCHITECTURES.get(arch) if arch else None
    values, sources, missing = {}, {}, []
    for fact in FLAGS:
        value, source, why_not = flags.get(fact), f"flag {FLAGS[fact]}", ""
        if value is None and fact in saved:
            value, source = saved[fact], saved_source
        if value is None and fact == "global_pool" and not found["class_token"]:
            value, source = "avg", "weights (no class token: timm pools the average)"
        if value is None and fact == "global_pool" and found["dist_token"]:
            value, source = "token", "weights (distilled: class and distillation tokens)"
        if value is None and fact == "pool_include_prefix":
            pool = values.get("global_pool")
            prefix = int(found["class_token"]) + int(found["dist_token"]) + found["reg_tokens"]
            if pool == "token" or prefix == 0:
                value, source = False, f"not used (global pool '{pool}', {prefix} prefix tokens)"
        if value is None and entry is not None:
            value, why_not = _table_value(fact, entry, found, arch)
            source = f"timm defaults for {arch}"
        if value is None:
            if not (fact == "pool_include_prefix" and "global_pool" not in values):  # asked once the pool is known
                missing.append(f"{fact} ({FLAGS[fact]}{'; ' + why_not if why_not else ''})")
            continue
        values[fact], sources[fact] = value, source
    if missing:
        hint = (f"--arch {arch} is not in the table of timm architectures (closest: {', '.join(closest_names(arch))})"
                if arch and entry is None else
                "pass --arch with a timm model name (e.g. vit_base_patch16_224, deit3_small_patch16_224, "
                "vit_small_patch14_reg4_dinov2, vit_base_patch16_clip_224)" if not arch else
                f"timm's defaults for {arch} do not cover them")
        raise ExportError(f"{path} does not determine {len(missing)} architecture or preprocessing "
                          f"fact(s) and no source gives them: {', '.join(missing)}; pass the flags, or {hint}.")
    values["act"] = ACTIVATIONS.get(str(values["act"]).lower())
    if values["act"] is None:
        raise ExportError(f"Activation '{flags.get('act') or saved.get('act')}' is not supported "
                          "(supported: gelu, quick_gelu).")
    image_source = "weights (position-embedding grid x patch size)"
    if saved.get("image_size") not in (None, found["image_size"]):
        raise ExportError(f"The {saved_source} give image size {saved['image_size']} but the position embedding "
                          f"holds a {found['image_size'] // found['patch_size']}² grid of patch "
                          f"{found['patch_size']} = {found['image_size']}; export at the trained size.")
    return Resolved(values, sources, image_source, arch)


def describe(resolved, found):
    """One line per fact: value and source (printed, and stored in the metadata)."""
    lines = [f"image_size = {found['image_size']}  [{resolved.image_size_source}]"]
    lines += [f"{fact} = {resolved.values[fact]}  [{resolved.sources[fact]}]" for fact in FLAGS]
    return lines
