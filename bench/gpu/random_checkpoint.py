"""Writes a random timm-format ViT state dict (torch.save), e.g. vit_base_patch16_224 with 41 classes.

Benchmarks need a model of the real shape, not real weights: the keys and shapes are timm's
VisionTransformer (class token, learned pos_embed, qkv bias), the values timm-like initialisation.
"""
import argparse

import torch

SHAPES = {  # name: (depth, width, patch, image)
    "vit_tiny_patch16_224": (12, 192, 16, 224),
    "vit_small_patch16_224": (12, 384, 16, 224),
    "vit_base_patch16_224": (12, 768, 16, 224),
}


def random_state_dict(depth, width, patch, image, classes, seed):
    gen = torch.Generator().manual_seed(seed)

    def normal(*shape, std=0.02):
        return torch.randn(*shape, generator=gen) * std

    tokens = 1 + (image // patch) ** 2
    sd = {
        "cls_token": normal(1, 1, width, std=1e-6),
        "pos_embed": normal(1, tokens, width),
        "patch_embed.proj.weight": normal(width, 3, patch, patch),
        "patch_embed.proj.bias": torch.zeros(width),
        "norm.weight": torch.ones(width),
        "norm.bias": torch.zeros(width),
        "head.weight": normal(classes, width),
        "head.bias": torch.zeros(classes),
    }
    for b in range(depth):
        p = f"blocks.{b}."
        sd.update({
            p + "norm1.weight": torch.ones(width), p + "norm1.bias": torch.zeros(width),
            p + "attn.qkv.weight": normal(3 * width, width), p + "attn.qkv.bias": torch.zeros(3 * width),
            p + "attn.proj.weight": normal(width, width), p + "attn.proj.bias": torch.zeros(width),
            p + "norm2.weight": torch.ones(width), p + "norm2.bias": torch.zeros(width),
            p + "mlp.fc1.weight": normal(4 * width, width), p + "mlp.fc1.bias": torch.zeros(4 * width),
            p + "mlp.fc2.weight": normal(width, 4 * width), p + "mlp.fc2.bias": torch.zeros(width),
        })
    return sd


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--arch", default="vit_base_patch16_224", choices=sorted(SHAPES))
    parser.add_argument("--num-classes", type=int, default=41)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    torch.save(random_state_dict(*SHAPES[args.arch], args.num_classes, args.seed), args.out)


if __name__ == "__main__":
    main()
