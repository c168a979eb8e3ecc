"""Times the published reference explainability code in torch eager, on a timm ViT checkpoint.

The reference is imported at run time from checkouts given on the command line (never vendored):
  --reference DIR     hila-chefer/Transformer-Explainability (baselines/ViT: ViT_LRP, ViT_new,
                      ViT_explanation_generator)
  --reference-mm DIR  hila-chefer/Transformer-MM-Explainability (optional): its ViT notebook's
                      generate_relevance cell is the generic rule for self-attention
The timm state dict loads unchanged: the reference's module names (patch_embed.proj, blocks.i.attn.qkv,
…, head) are timm's. Each method runs once to warm up, then --runs times; p50 is the median.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np
import torch
from PIL import Image

import reference_shims

GENERIC_NOTEBOOK = "Transformer_MM_explainability_ViT.ipynb"


def load_image(path, size, mean=0.5, std=0.5):
    """timm's eval transform for vit_base_patch16_224: shorter side to size/0.9 (bicubic), centre crop."""
    image = Image.open(path).convert("RGB")
    scale = round(size / 0.9) / min(image.size)
    image = image.resize((round(image.width * scale), round(image.height * scale)), Image.BICUBIC)
    left, top = (image.width - size) // 2, (image.height - size) // 2
    image = image.crop((left, top, left + size, top + size))
    pixels = (np.asarray(image, dtype=np.float32) / 255.0 - mean) / std
    return torch.from_numpy(pixels.transpose(2, 0, 1).copy()).unsqueeze(0)


def generic_rule_from_notebook(mm_dir):
    """The notebook cell that defines generate_relevance, executed as the notebook would."""
    with open(os.path.join(mm_dir, GENERIC_NOTEBOOK), encoding="utf-8") as handle:
        cells = json.load(handle)["cells"]
    source = next("".join(c["source"]) for c in cells
                  if c["cell_type"] == "code" and "def generate_relevance" in "".join(c["source"]))
    namespace = {"torch": torch, "np": np}
    exec(compile(source, f"{mm_dir}/{GENERIC_NOTEBOOK}", "exec"), namespace)
    return namespace["generate_relevance"]


def build_models(state_dict, num_classes):
    from baselines.ViT.ViT_LRP import vit_base_patch16_224 as vit_lrp
    from baselines.ViT.ViT_new import vit_base_patch16_224 as vit_plain
    models = []
    for factory in (vit_lrp, vit_plain):
        model = factory(pretrained=False, num_classes=num_classes)
        model.load_state_dict(state_dict, strict=True)
        models.append(model.eval())
    return models


def method_calls(lrp_model, plain_model, generic_relevance, x):
    """method id -> (what the reference runs, a callable). Method ids are Dermxai's."""
    from baselines.ViT.ViT_explanation_generator import LRP, Baselines
    lrp, baselines = LRP(lrp_model), Baselines(plain_model)

    def forward_only():
        with torch.no_grad():
            return plain_model(x)

    def last_attention():
        forward_only()
        return plain_model.blocks[-1].attn.get_attention_map()[0, :, 0, 1:].mean(0)

    def top3_attribution():
        top3 = forward_only()[0].topk(3).indices.tolist()
        return [lrp.generate_LRP(x, index=c, method="transformer_attribution") for c in top3]

    calls = {
        "transformer_attribution": ("LRP.generate_LRP(method='transformer_attribution')",
                                    lambda: lrp.generate_LRP(x, method="transformer_attribution")),
        "generic_attention": ("MM notebook generate_relevance (ViT_new)",
                              lambda: generic_relevance(plain_model, x)) if generic_relevance else None,
        "attention_gradcam": ("Baselines.generate_cam_attn (ViT_new)", lambda: baselines.generate_cam_attn(x)),
        "raw_attention": ("ViT_new forward (no grad) + last block's map", last_attention),
        "attention_rollout": ("Baselines.generate_rollout(start_layer=1)",
                              lambda: baselines.generate_rollout(x, start_layer=1)),
        "classify": ("ViT_new forward (no grad)", forward_only),
        "transformer_attribution_top3": ("forward + 3 x LRP.generate_LRP", top3_attribution),
    }
    return {name: call for name, call in calls.items() if call is not None}


def time_call(call, runs):
    call()
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", required=True)
    parser.add_argument("--reference-mm")
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--image", required=True)
    parser.add_argument("--num-classes", type=int, default=41)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--methods", help="comma-separated method ids (default: all)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    reference_shims.install()
    sys.path.insert(0, os.path.abspath(args.reference))
    state_dict = torch.load(args.checkpoint, map_location="cpu")
    lrp_model, plain_model = build_models(state_dict, args.num_classes)
    generic = generic_rule_from_notebook(args.reference_mm) if args.reference_mm else None
    x = load_image(args.image, args.image_size)
    calls = method_calls(lrp_model, plain_model, generic, x)
    wanted = args.methods.split(",") if args.methods else list(calls)

    results = {}
    report = {"threads": args.threads, "runs": args.runs, "torch": torch.__version__,
              "python": platform.python_version(), "generic_rule": bool(generic), "methods": results}
    for name in wanted:
        if name not in calls:
            continue
        what, call = calls[name]
        seconds = time_call(call, args.runs)
        results[name] = {"call": what, "p50_s": statistics.median(seconds), "seconds": seconds}
        print(f"reference {name}: p50 {results[name]['p50_s']:.3f} s ({what})", flush=True)
        with open(args.out, "w", encoding="utf-8") as handle:  # after each method: a cut-short run keeps what it has
            json.dump(report, handle, indent=2)


if __name__ == "__main__":
    main()
