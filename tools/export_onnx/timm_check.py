"""Where timm is importable: timm's own model with the same weights must give the exporter's logits."""
import torch

from errors import ExportError
from vit_graph import VitGraph


def build_timm_model(config):
    """timm's VisionTransformer (or VisionTransformerDistilled) with this config's architecture."""
    from functools import partial

    from timm.layers import LayerNorm
    kwargs = dict(img_size=config.image_size, patch_size=config.patch_size, embed_dim=config.width,
                  depth=config.depth, num_heads=config.num_heads, mlp_ratio=config.mlp_hidden / config.width,
                  qkv_bias=config.qkv_bias, qk_norm=config.qk_norm, num_classes=config.num_classes,
                  global_pool=config.global_pool, class_token=config.class_token, reg_tokens=config.reg_tokens,
                  no_embed_class=config.no_embed_class, pre_norm=config.pre_norm,
                  final_norm=config.final_norm or config.fc_norm,
                  fc_norm=config.fc_norm, init_values=1.0 if config.layer_scale else None,
                  norm_layer=partial(LayerNorm, eps=config.ln_eps),
                  act_layer="quick_gelu" if config.act == "quick_gelu" else None)
    if config.pool_include_prefix:
        kwargs["pool_include_prefix"] = True
    if config.dist_token:
        from timm.models.deit import VisionTransformerDistilled
        return VisionTransformerDistilled(**kwargs)
    from timm.models.vision_transformer import VisionTransformer
    model = VisionTransformer(**kwargs)
    if config.pre_norm != (not config.patch_bias):  # timm ties the patch bias to pre_norm
        model.patch_embed.proj.bias = None if not config.patch_bias else torch.nn.Parameter(
            torch.zeros(config.width))
    return model


def check_against_timm(config, state_dict, log):
    try:
        import timm  # noqa: F401
    except ImportError:
        log("timm check: timm is not importable here, skipped (the golden-timm tests cover the families)")
        return
    model = build_timm_model(config)
    model.load_state_dict(state_dict)
    model = model.to(torch.float64).eval()
    pixels = torch.randn(2, 3, config.image_size, config.image_size, generator=torch.Generator().manual_seed(1),
                         dtype=torch.float64)
    with torch.no_grad():
        ours = VitGraph(config, state_dict, torch.float64).forward_pass(pixels)[0]
        theirs = model(pixels)
    rel = float((ours - theirs).abs().max() / theirs.abs().max())
    log(f"timm check: float64 logits max rel difference to timm {rel:.2e}")
    if rel > 1e-9:
        raise ExportError(f"The exporter's logits differ from timm's by {rel:.1e} relative for these weights.")
