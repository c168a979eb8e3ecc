"""What a timm VisionTransformer state dict says about its architecture, and what it cannot say.

Read off the tensors (docs/contract.md#model-contract): depth, width, patch size, classes, MLP width, the prefix
tokens (class, distillation, registers), where the position embedding starts, and which optional
modules exist (qkv / patch-embedding biases, LayerScale, q/k norm, pre-norm, final norm, fc_norm,
distilled head). Not in the tensors: heads, pooling, LayerNorm eps, activation (resolve.py).
"""
import re
from dataclasses import dataclass

from errors import ExportError

# Features of timm's ViT family this exporter does not reproduce: key pattern, name, nearest supported.
UNSUPPORTED_FEATURES = (
    (r"^attn_pool\.", "attention pooling (attn_pool, global_pool 'map')",
     "global average pooling ('avg' with fc_norm) or class-token pooling, with a re-trained head"),
    (r"^blocks\.\d+\.(attns|mlps|ffns)\.|^blocks\.\d+\.in_proj\.|^blocks\.\d+\.in_norm\.",
     "parallel blocks (ParallelThingsBlock / ParallelScalingBlock)", "the sequential timm Block"),
    (r"^blocks\.\d+\.mlp\.(fc1_g|fc1_x|w12|w3|norm)\.", "gated or normalised MLP (SwiGLU, scale_mlp_norm)",
     "the GELU Mlp (timm Mlp)"),
    (r"^blocks\.\d+\.attn\.norm\.", "attention output norm (scale_attn_norm)", "Attention without scale norm"),
    (r"^patch_embed\.norm\.", "normalised patch embedding (embed_norm_layer)", "the plain patch embedding"),
    (r"^pre_logits\.", "pre-logits layer (representation_size)", "a head directly on the pooled feature"),
    (r"relative_position|rel_pos|\.rope\.|^rope\.", "relative or rotary position encoding (BEiT, EVA, RoPE)",
     "learned absolute position embedding (pos_embed)"),
)


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
    class_token: bool = True
    dist_token: bool = False
    reg_tokens: int = 0
    no_embed_class: bool = False
    patch_bias: bool = True
    pre_norm: bool = False
    final_norm: bool = True
    fc_norm: bool = False
    global_pool: str = "token"
    pool_include_prefix: bool = False
    layer_scale: bool = False
    qk_norm: bool = False
    ln_eps: float = 1e-6
    act: str = "gelu"

    @property
    def grid(self):
        return self.image_size // self.patch_size

    @property
    def prefix_tokens(self):
        """Tokens before the patches, in timm order [cls, (dist), (reg0..)]."""
        return int(self.class_token) + int(self.dist_token) + self.reg_tokens

    @property
    def tokens(self):
        return self.prefix_tokens + self.grid * self.grid

    @property
    def head_dim(self):
        return self.width // self.num_heads

    @property
    def readout(self):
        """Which last-block token rows explain the logits (contract key `readout`)."""
        if self.dist_token:
            return "class_dist"
        if self.global_pool == "token":
            return "class"
        return "mean_tokens" if self.pool_include_prefix and self.prefix_tokens else "mean_patches"

    @property
    def readout_rows(self):
        """How many leading token rows of the last block the readout reads: 1 (class token), 2 (class
        and distillation tokens) or all of them (pooling)."""
        return {"class": 1, "class_dist": 2}.get(self.readout, self.tokens)

    def pooled_rows(self):
        """(first row, last row + 1) of the rows averaged by global average pooling."""
        return (0 if self.pool_include_prefix else self.prefix_tokens), self.tokens

    def default_architecture_name(self):
        return (f"vit_custom_depth{self.depth}_width{self.width}_heads{self.num_heads}"
                f"_patch{self.patch_size}_{self.image_size}")


def rename_legacy_keys(state_dict):
    """timm's checkpoint_filter_fn renames: gamma_1/gamma_2 (original DeiT III) -> ls1/ls2.gamma."""
    for key in [k for k in state_dict if re.search(r"\.gamma_[12]$", k)]:
        state_dict[re.sub(r"gamma_([12])$", r"ls\1.gamma", key)] = state_dict.pop(key)


def unsupported_features(state_dict):
    """[(name, key found, nearest supported)] for every unsupported feature present."""
    found = []
    for pattern, name, nearest in UNSUPPORTED_FEATURES:
        keys = [k for k in state_dict if re.search(pattern, k)]
        if keys:
            found.append((name, keys[0], nearest))
    fc1, fc2 = state_dict.get("blocks.0.mlp.fc1.weight"), state_dict.get("blocks.0.mlp.fc2.weight")
    if fc1 is not None and fc2 is not None and fc1.dim() == 2 and fc2.dim() == 2 and fc1.shape[0] == 2 * fc2.shape[1]:
        found.append(("packed SwiGLU MLP (fc1 twice the width fc2 reads)", "blocks.0.mlp.fc1.weight",
                      "the GELU Mlp (timm Mlp)"))
    if any(k.startswith("blocks.") for k in state_dict) and "pos_embed" not in state_dict:
        found.append(("no absolute position embedding (pos_embed='none')", "pos_embed absent",
                      "learned absolute position embedding (pos_embed)"))
    if "head.weight" not in state_dict and "head_dist.weight" not in state_dict:
        found.append(("no classification head (num_classes=0, a feature extractor)", "head.weight absent",
                      "a fine-tuned head (head.weight, head.bias)"))
    return found


def refuse_unsupported(state_dict, path):
    found = unsupported_features(state_dict)
    if found:
        listed = "; ".join(f"{name} (found {key}; nearest supported: {nearest})" for name, key, nearest in found)
        raise ExportError(f"Checkpoint {path} uses {len(found)} unsupported feature(s): {listed}.")


def _require(state_dict, key):
    if key not in state_dict:
        raise ExportError(f"The checkpoint is not a timm ViT state dict: key '{key}' is missing.")
    return state_dict[key]


def normalise_patch_weight(state_dict, width):
    """Old JAX conversions store the patch projection as [D, 3p²]; bring it to [D, 3, p, p]."""
    weight = _require(state_dict, "patch_embed.proj.weight")
    if weight.dim() == 2:
        p = int(round((weight.shape[1] // 3) ** 0.5))
        if weight.shape[0] != width or 3 * p * p != weight.shape[1]:
            raise ExportError(f"patch_embed.proj.weight has shape {tuple(weight.shape)}, "
                              "which is not a 3-channel square patch projection.")
        state_dict["patch_embed.proj.weight"] = weight.reshape(width, 3, p, p)
    elif weight.dim() != 4 or weight.shape[1] != 3 or weight.shape[2] != weight.shape[3]:
        raise ExportError(f"patch_embed.proj.weight has shape {tuple(weight.shape)}, "
                          "which is not a 3-channel square patch projection.")


def structure(state_dict, path="the checkpoint"):
    """Everything the tensors determine, as a dict of VitConfig fields (no heads, pool, eps, act)."""
    if not any(k.startswith("blocks.") for k in state_dict):
        raise ExportError(f"{path} is not a timm VisionTransformer state dict (no 'blocks.*' keys).")
    rename_legacy_keys(state_dict)
    refuse_unsupported(state_dict, path)
    width = _require(state_dict, "blocks.0.norm1.weight").shape[0]
    normalise_patch_weight(state_dict, width)
    patch = state_dict["patch_embed.proj.weight"].shape[2]
    head_weight = _require(state_dict, "head.weight")
    if head_weight.dim() != 2 or head_weight.shape[1] != width:
        raise ExportError(f"head.weight has shape {tuple(head_weight.shape)}; expected [classes, {width}].")
    reg = state_dict["reg_token"].shape[1] if "reg_token" in state_dict else 0
    found = dict(
        depth=1 + max(int(k.split(".")[1]) for k in state_dict if k.startswith("blocks.")),
        width=width, patch_size=patch, num_classes=head_weight.shape[0],
        mlp_hidden=_require(state_dict, "blocks.0.mlp.fc1.weight").shape[0],
        qkv_bias="blocks.0.attn.qkv.bias" in state_dict, class_token="cls_token" in state_dict,
        dist_token="dist_token" in state_dict, reg_tokens=reg, patch_bias="patch_embed.proj.bias" in state_dict,
        pre_norm="norm_pre.weight" in state_dict, final_norm="norm.weight" in state_dict,
        fc_norm="fc_norm.weight" in state_dict, layer_scale="blocks.0.ls1.gamma" in state_dict,
        qk_norm="blocks.0.attn.q_norm.weight" in state_dict)
    if found["dist_token"] and not found["class_token"]:
        raise ExportError(f"{path} has a distillation token but no class token; timm has no such ViT.")
    prefix = int(found["class_token"]) + int(found["dist_token"]) + reg
    tokens = state_dict["pos_embed"].shape[1]
    layouts = []
    for no_embed_class, patches in ((False, tokens - prefix), (True, tokens)):
        grid = int(round(max(patches, 0) ** 0.5))
        if grid > 0 and grid * grid == patches and (prefix > 0 or not no_embed_class):
            layouts.append((no_embed_class, grid * patch))
    if len(layouts) != 1:
        raise ExportError(f"pos_embed has {tokens} rows, which is " + (
            "neither a square patch grid nor " if not layouts else "ambiguous: a square patch grid and also ")
            + f"{prefix} prefix token(s) plus a square grid.")
    found.update(no_embed_class=layouts[0][0], image_size=layouts[0][1])
    return found


def infer_config(state_dict, num_heads, image_size=None, global_pool=None, ln_eps=1e-6, act="gelu",
                 pool_include_prefix=False, path="the checkpoint"):
    """The full VitConfig; the facts the tensors cannot give are arguments (resolve.py finds them)."""
    found = structure(state_dict, path)
    if image_size is not None and image_size != found["image_size"]:
        grid = found["image_size"] // found["patch_size"]
        raise ExportError(f"--image-size {image_size} does not match the checkpoint's position "
                          f"embedding ({grid}x{grid} patches of {found['patch_size']} = {found['image_size']}); "
                          "position-embedding resampling is not supported: export at the trained size.")
    if global_pool is None:
        global_pool = "token" if found["class_token"] else "avg"
    if global_pool not in ("token", "avg"):
        raise ExportError(f"Global pooling '{global_pool}' is not supported (nearest supported: 'avg').")
    if global_pool == "token" and not found["class_token"]:
        raise ExportError("Class-token pooling was asked for but the checkpoint has no class token.")
    if found["dist_token"] and (global_pool != "token" or found["fc_norm"]):
        raise ExportError("A distilled ViT reads its class and distillation tokens; pooling must be 'token'.")
    if num_heads is None or num_heads <= 0 or found["width"] % num_heads != 0:
        raise ExportError(f"--num-heads {num_heads} does not divide the embedding width {found['width']}.")
    config = VitConfig(num_heads=num_heads, global_pool=global_pool, ln_eps=ln_eps, act=act,
                       pool_include_prefix=pool_include_prefix, **found)
    check_keys_and_shapes(state_dict, config)
    return config


def expected_shapes(config):
    D, F, p, C = config.width, config.mlp_hidden, config.patch_size, config.num_classes
    shapes = {"patch_embed.proj.weight": (D, 3, p, p), "head.weight": (C, D), "head.bias": (C,),
              "pos_embed": (1, config.grid ** 2 + (0 if config.no_embed_class else config.prefix_tokens), D)}
    optional = {"cls_token": (config.class_token, (1, 1, D)), "dist_token": (config.dist_token, (1, 1, D)),
                "reg_token": (config.reg_tokens > 0, (1, config.reg_tokens, D)),
                "patch_embed.proj.bias": (config.patch_bias, (D,)),
                "head_dist.weight": (config.dist_token, (C, D)), "head_dist.bias": (config.dist_token, (C,))}
    for prefix, present in (("norm_pre", config.pre_norm), ("norm", config.final_norm), ("fc_norm", config.fc_norm)):
        optional[f"{prefix}.weight"] = optional[f"{prefix}.bias"] = (present, (D,))
    shapes.update({k: shape for k, (present, shape) in optional.items() if present})
    d = config.head_dim
    block = {"norm1.weight": (D,), "norm1.bias": (D,), "attn.qkv.weight": (3 * D, D),
             "attn.proj.weight": (D, D), "attn.proj.bias": (D,), "norm2.weight": (D,), "norm2.bias": (D,),
             "mlp.fc1.weight": (F, D), "mlp.fc1.bias": (F,), "mlp.fc2.weight": (D, F), "mlp.fc2.bias": (D,)}
    if config.qkv_bias:
        block["attn.qkv.bias"] = (3 * D,)
    if config.layer_scale:
        block.update({"ls1.gamma": (D,), "ls2.gamma": (D,)})
    if config.qk_norm:
        block.update({f"attn.{n}.{p_}": (d,) for n in ("q_norm", "k_norm") for p_ in ("weight", "bias")})
    for i in range(config.depth):
        shapes.update({f"blocks.{i}.{name}": shape for name, shape in block.items()})
    return shapes


def check_keys_and_shapes(state_dict, config):
    shapes = expected_shapes(config)
    missing = sorted(set(shapes) - set(state_dict))
    extra = sorted(set(state_dict) - set(shapes))
    if missing:
        raise ExportError(f"The checkpoint is missing {len(missing)} ViT key(s), first '{missing[0]}'.")
    if extra:
        raise ExportError(f"The checkpoint has {len(extra)} unexpected key(s) for a timm ViT, first '{extra[0]}'.")
    for key, shape in shapes.items():
        if tuple(state_dict[key].shape) != tuple(shape):
            raise ExportError(f"Tensor '{key}' has shape {tuple(state_dict[key].shape)}, expected {tuple(shape)}.")
