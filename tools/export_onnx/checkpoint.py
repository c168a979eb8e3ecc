"""Reading timm VisionTransformer checkpoints as users have them, and deriving the model shape.

Everything the model needs except the number of heads is read off the tensors' shapes
(tools/export_onnx/README.md, Usage); the number of heads defaults to timm's width / 64.
"""
import hashlib
import os
import pickle
import re
from dataclasses import dataclass

import torch


class ExportError(Exception):
    """A problem with the user's input; the CLI prints the message as one sentence and exits 1."""


WRAPPER_KEYS = ("state_dict_ema", "state_dict", "model")

# Key patterns of timm variants this exporter cannot represent, with the name given in the refusal.
UNSUPPORTED_VARIANTS = (
    (re.compile(r"^dist_token$|^head_dist\."), "distilled (DeiT distillation token)"),
    (re.compile(r"^reg_token$"), "register tokens"),
    (re.compile(r"\.ls[12]\.(gamma|weight)$|\.gamma_[12]$"), "LayerScale"),
    (re.compile(r"^fc_norm\."), "global-average pooling (fc_norm)"),
    (re.compile(r"\.attn\.(q_norm|k_norm)\."), "q/k normalisation"),
    (re.compile(r"^norm_pre\."), "pre-norm (norm_pre)"),
    (re.compile(r"^pre_logits\."), "pre-logits layer"),
    (re.compile(r"^attn_pool\."), "attention pooling"),
    (re.compile(r"^patch_embed\.norm\."), "normalised patch embedding"),
    (re.compile(r"\.attn\.norm\."), "attention scale norm"),
)

BLOCK_PARAM_SHAPES = {
    "norm1.weight": lambda D, F: (D,), "norm1.bias": lambda D, F: (D,),
    "attn.qkv.weight": lambda D, F: (3 * D, D),
    "attn.proj.weight": lambda D, F: (D, D), "attn.proj.bias": lambda D, F: (D,),
    "norm2.weight": lambda D, F: (D,), "norm2.bias": lambda D, F: (D,),
    "mlp.fc1.weight": lambda D, F: (F, D), "mlp.fc1.bias": lambda D, F: (F,),
    "mlp.fc2.weight": lambda D, F: (D, F), "mlp.fc2.bias": lambda D, F: (D,),
}


@dataclass(frozen=True)
class VitConfig:
    depth: int
    width: int
    num_heads: int
    patch_size: int
    image_size: int
    num_classes: int
    mlp_hidden: int
    qkv_bias: bool

    @property
    def grid(self):
        return self.image_size // self.patch_size

    @property
    def tokens(self):
        return 1 + self.grid * self.grid

    @property
    def head_dim(self):
        return self.width // self.num_heads

    def default_architecture_name(self):
        known = {(12, 192, 3): "vit_tiny", (12, 384, 6): "vit_small", (12, 768, 12): "vit_base",
                 (24, 1024, 16): "vit_large", (32, 1280, 16): "vit_huge"}
        family = known.get((self.depth, self.width, self.num_heads))
        if family and self.mlp_hidden == 4 * self.width:
            return f"{family}_patch{self.patch_size}_{self.image_size}"
        return (f"vit_custom_depth{self.depth}_width{self.width}_heads{self.num_heads}"
                f"_patch{self.patch_size}_{self.image_size}")


def sha256_of_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_checkpoint_file(path, trust_pickle=False):
    """torch.load the file and return the bare state dict (wrappers and `module.` stripped).

    Tensors-only loading (weights_only) unless the user trusts the file: training checkpoints that
    also pickle Python objects (argparse namespaces, ...) need --trust-checkpoint.
    """
    if not os.path.isfile(path):
        raise ExportError(f"Checkpoint file {path} does not exist.")
    try:
        with open(path, "rb") as f:
            f.read(1)
    except OSError as e:
        raise ExportError(f"Cannot read checkpoint {path} ({e.strerror}).")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=not trust_pickle)
    except pickle.UnpicklingError as e:
        if "Unsupported class" not in str(e):
            raise ExportError(f"Cannot read checkpoint {path} as a torch.save file (UnpicklingError).")
        raise ExportError(f"Checkpoint {path} holds pickled Python objects besides tensors; pass "
                          "--trust-checkpoint to load it anyway if you trust the file.")
    except Exception as e:  # zip and format errors all mean "cannot read it"
        raise ExportError(f"Cannot read checkpoint {path} as a torch.save file ({type(e).__name__}).")
    return unwrap_state_dict(obj)


def unwrap_state_dict(obj):
    if isinstance(obj, dict):
        for key in WRAPPER_KEYS:
            if key in obj and isinstance(obj[key], dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not obj or not all(torch.is_tensor(v) for v in obj.values()):
        raise ExportError("The checkpoint is not a state dict of tensors (bare, or under "
                          "'state_dict', 'model' or 'state_dict_ema').")
    if all(k.startswith("module.") for k in obj):
        obj = {k[len("module."):]: v for k, v in obj.items()}
    return dict(obj)


def refuse_unsupported_variants(state_dict):
    for pattern, name in UNSUPPORTED_VARIANTS:
        if any(pattern.search(k) for k in state_dict):
            raise ExportError(f"Unsupported ViT variant: {name} is not part of Dermxai contract v1.")


def _require(state_dict, key):
    if key not in state_dict:
        raise ExportError(f"The checkpoint is not a timm ViT state dict: key '{key}' is missing.")
    return state_dict[key]


def normalise_patch_weight(state_dict, width):
    """Old JAX conversions store the patch projection as [D, 3p²]; bring it to [D, 3, p, p]."""
    weight = _require(state_dict, "patch_embed.proj.weight")
    if weight.dim() == 2:
        side2 = weight.shape[1] // 3
        p = int(round(side2 ** 0.5))
        if weight.shape[0] != width or 3 * p * p != weight.shape[1]:
            raise ExportError(f"patch_embed.proj.weight has shape {tuple(weight.shape)}, "
                              "which is not a 3-channel square patch projection.")
        state_dict["patch_embed.proj.weight"] = weight.reshape(width, 3, p, p)
    elif weight.dim() != 4 or weight.shape[1] != 3 or weight.shape[2] != weight.shape[3]:
        raise ExportError(f"patch_embed.proj.weight has shape {tuple(weight.shape)}, "
                          "which is not a 3-channel square patch projection.")


def infer_config(state_dict, num_heads=None, image_size=None):
    """Derive the ViT shape from the tensors and check every key is present and expected."""
    if not any(k.startswith("blocks.") for k in state_dict) or "pos_embed" not in state_dict:
        raise ExportError("The checkpoint is not a timm VisionTransformer state dict "
                          "(no 'blocks.*' or 'pos_embed' keys).")
    refuse_unsupported_variants(state_dict)
    if "cls_token" not in state_dict:
        raise ExportError("Unsupported ViT variant: the checkpoint has no class token (cls_token).")
    cls_token = state_dict["cls_token"]
    width = cls_token.shape[-1]
    normalise_patch_weight(state_dict, width)
    patch = state_dict["patch_embed.proj.weight"].shape[2]
    depth = 1 + max(int(k.split(".")[1]) for k in state_dict if k.startswith("blocks."))
    head_weight = _require(state_dict, "head.weight")
    if head_weight.dim() != 2 or head_weight.shape[1] != width:
        raise ExportError(f"head.weight has shape {tuple(head_weight.shape)}; expected [classes, {width}].")
    num_classes = head_weight.shape[0]
    mlp_hidden = _require(state_dict, "blocks.0.mlp.fc1.weight").shape[0]
    tokens = _require(state_dict, "pos_embed").shape[1]
    grid = int(round((tokens - 1) ** 0.5))
    if grid * grid != tokens - 1:
        raise ExportError(f"pos_embed has {tokens} tokens, which is not 1 class token plus a square "
                          "grid (no_embed_class layouts are not supported).")
    inferred_size = grid * patch
    if image_size is not None and image_size != inferred_size:
        raise ExportError(f"--image-size {image_size} does not match the checkpoint's position "
                          f"embedding ({grid}x{grid} patches of {patch} = {inferred_size}).")
    heads = num_heads if num_heads is not None else max(1, width // 64)
    if heads <= 0 or width % heads != 0:
        raise ExportError(f"--num-heads {heads} does not divide the embedding width {width}.")
    config = VitConfig(depth=depth, width=width, num_heads=heads, patch_size=patch,
                       image_size=inferred_size, num_classes=num_classes, mlp_hidden=mlp_hidden,
                       qkv_bias="blocks.0.attn.qkv.bias" in state_dict)
    check_keys_and_shapes(state_dict, config)
    return config


def expected_shapes(config):
    D, F, p = config.width, config.mlp_hidden, config.patch_size
    shapes = {
        "cls_token": (1, 1, D), "pos_embed": (1, config.tokens, D),
        "patch_embed.proj.weight": (D, 3, p, p), "patch_embed.proj.bias": (D,),
        "norm.weight": (D,), "norm.bias": (D,),
        "head.weight": (config.num_classes, D), "head.bias": (config.num_classes,),
    }
    for i in range(config.depth):
        for name, shape in BLOCK_PARAM_SHAPES.items():
            shapes[f"blocks.{i}.{name}"] = shape(D, F)
        if config.qkv_bias:
            shapes[f"blocks.{i}.attn.qkv.bias"] = (3 * D,)
    return shapes


def check_keys_and_shapes(state_dict, config):
    shapes = expected_shapes(config)
    missing = sorted(set(shapes) - set(state_dict))
    extra = sorted(set(state_dict) - set(shapes))
    if missing:
        raise ExportError(f"The checkpoint is missing {len(missing)} ViT key(s), first '{missing[0]}'.")
    if extra:
        raise ExportError(f"The checkpoint has {len(extra)} unexpected key(s) for a plain timm ViT, "
                          f"first '{extra[0]}'.")
    for key, shape in shapes.items():
        if tuple(state_dict[key].shape) != tuple(shape):
            raise ExportError(f"Tensor '{key}' has shape {tuple(state_dict[key].shape)}, "
                              f"expected {tuple(shape)}.")
