"""timm's architecture defaults by model name: the facts a state dict cannot give (heads, pooling,
LayerNorm eps, activation) and the default pretrained tag's preprocessing (pretrained_cfg: mean, std,
crop_pct, interpolation), as timm 1.0 registers them; plus the structure flags, so the resolver can
tell when an entry does not describe the weights at hand (a fine-tune with other overrides)."""
import difflib

INCEPTION = {"mean": (0.5, 0.5, 0.5), "std": (0.5, 0.5, 0.5)}
IMAGENET = {"mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225)}
OPENAI_CLIP = {"mean": (0.48145466, 0.4578275, 0.40821073), "std": (0.26862954, 0.26130258, 0.27577711)}
SIZES = {"tiny": (192, 12, 3), "small": (384, 12, 6), "medium": (512, 12, 8), "base": (768, 12, 12),
         "large": (1024, 24, 16), "huge": (1280, 32, 16), "giant": (1536, 40, 24)}


def _entry(size, patch, image, crop_pct, preprocessing, **overrides):
    width, depth, heads = SIZES[size]
    entry = dict(width=width, depth=depth, num_heads=heads, patch_size=patch, image_size=image,
                 global_pool="token", pool_include_prefix=False, class_token=True, dist_token=False,
                 reg_tokens=0, no_embed_class=False, pre_norm=False, final_norm=True, fc_norm=False,
                 layer_scale=False, qk_norm=False, ln_eps=1e-6, act="gelu", crop_pct=crop_pct,
                 interpolation="bicubic", unsupported=None, **preprocessing)
    entry.update(overrides)
    return entry


def _crop(image):
    return 1.0 if image >= 384 else 0.9


TIMM_ARCHITECTURES = {}
for size, patch, image in (("tiny", 16, 224), ("tiny", 16, 384), ("small", 16, 224), ("small", 16, 384),
                           ("small", 32, 224), ("small", 32, 384), ("base", 16, 224), ("base", 16, 384),
                           ("base", 32, 224), ("base", 32, 384), ("base", 8, 224), ("large", 16, 224),
                           ("large", 16, 384), ("large", 32, 384), ("huge", 14, 224)):
    TIMM_ARCHITECTURES[f"vit_{size}_patch{patch}_{image}"] = _entry(size, patch, image, _crop(image), INCEPTION)
TIMM_ARCHITECTURES["vit_small_patch8_224"] = _entry("small", 8, 224, 0.9, IMAGENET)
TIMM_ARCHITECTURES["vit_base_patch16_224_miil"] = _entry(
    "base", 16, 224, 0.875, {"mean": (0.0, 0.0, 0.0), "std": (1.0, 1.0, 1.0)}, interpolation="bilinear")
for image in (256, 384):
    TIMM_ARCHITECTURES[f"vit_medium_patch16_gap_{image}"] = _entry(
        "medium", 16, image, 0.95, INCEPTION, class_token=False, global_pool="avg", layer_scale=True)
TIMM_ARCHITECTURES["vit_base_patch16_gap_224"] = _entry(
    "base", 16, 224, 0.9, INCEPTION, num_heads=16, class_token=False, global_pool="avg")
for size, crop, scale in (("medium", 0.95, True), ("base", 0.9, False)):
    TIMM_ARCHITECTURES[f"vit_{size}_patch16_reg4_gap_256"] = _entry(
        size, 16, 256, crop, INCEPTION, class_token=False, reg_tokens=4, no_embed_class=True, global_pool="avg",
        final_norm=False, fc_norm=True, layer_scale=scale)
for size, image in (("tiny", 224), ("small", 224), ("base", 224), ("base", 384)):
    TIMM_ARCHITECTURES[f"deit_{size}_patch16_{image}"] = _entry(size, 16, image, _crop(image), IMAGENET)
    TIMM_ARCHITECTURES[f"deit_{size}_distilled_patch16_{image}"] = _entry(
        size, 16, image, _crop(image), IMAGENET, dist_token=True)
for size, image in (("small", 224), ("small", 384), ("medium", 224), ("base", 224), ("base", 384),
                    ("large", 224), ("large", 384)):
    TIMM_ARCHITECTURES[f"deit3_{size}_patch16_{image}"] = _entry(
        size, 16, image, _crop(image), IMAGENET, no_embed_class=True, layer_scale=True)
TIMM_ARCHITECTURES["deit3_huge_patch14_224"] = _entry(
    "huge", 14, 224, 0.9, IMAGENET, no_embed_class=True, layer_scale=True)
for size in ("small", "base", "large", "giant"):
    swiglu = "SwiGLU MLP (nearest supported: vit_large_patch14_dinov2)" if size == "giant" else None
    TIMM_ARCHITECTURES[f"vit_{size}_patch14_dinov2"] = _entry(
        size, 14, 518, 1.0, IMAGENET, layer_scale=True, unsupported=swiglu)
    TIMM_ARCHITECTURES[f"vit_{size}_patch14_reg4_dinov2"] = _entry(
        size, 14, 518, 1.0, IMAGENET, layer_scale=True, reg_tokens=4, no_embed_class=True, unsupported=swiglu)
CLIP = dict(pre_norm=True, ln_eps=1e-5)
for name, size, patch, image, crop, preprocessing, act in (
        ("vit_base_patch32_clip_224", "base", 32, 224, 0.9, OPENAI_CLIP, "gelu"),
        ("vit_base_patch16_clip_224", "base", 16, 224, 0.95, OPENAI_CLIP, "gelu"),
        ("vit_base_patch16_clip_384", "base", 16, 384, 1.0, OPENAI_CLIP, "gelu"),
        ("vit_large_patch14_clip_224", "large", 14, 224, 1.0, INCEPTION, "gelu"),
        ("vit_large_patch14_clip_336", "large", 14, 336, 1.0, INCEPTION, "gelu"),
        ("vit_huge_patch14_clip_224", "huge", 14, 224, 1.0, OPENAI_CLIP, "gelu"),
        ("vit_base_patch32_clip_quickgelu_224", "base", 32, 224, 0.9, OPENAI_CLIP, "quick_gelu"),
        ("vit_base_patch16_clip_quickgelu_224", "base", 16, 224, 1.0, OPENAI_CLIP, "quick_gelu"),
        ("vit_large_patch14_clip_quickgelu_224", "large", 14, 224, 1.0, OPENAI_CLIP, "quick_gelu")):
    TIMM_ARCHITECTURES[name] = _entry(size, patch, image, crop, preprocessing, act=act, **CLIP)
# Registered ViTs whose structure this exporter does not reproduce; named so a refusal can say why.
for name, size, feature in (
        ("vit_base_patch16_siglip_224", "base", "attention pooling (global_pool 'map'; nearest supported: "
                                                "vit_base_patch16_gap_224, global average pooling)"),
        ("vit_small_patch16_18x2_224", "small", "parallel blocks (nearest supported: vit_small_patch16_224)"),
        ("vit_base_patch16_xp_224", "base", "parallel scaling blocks with RmsNorm (nearest supported: "
                                            "vit_base_patch16_224)"),
        ("vit_base_patch16_rpn_224", "base", "post-norm residual blocks (ResPostBlock; nearest supported: "
                                             "deit3_base_patch16_224)")):
    TIMM_ARCHITECTURES[name] = _entry(size, 16, 224, 0.9, INCEPTION, unsupported=feature)


def closest_names(name, count=3):
    return difflib.get_close_matches(name, list(TIMM_ARCHITECTURES), n=count, cutoff=0.0)
