"""Loading a synth_derm set into memory with timm's eval geometry, and the training augmentation.

Eval transform (timm, crop_pct 0.9): resize the shorter side to floor(224 / 0.9) = 248 with PIL
bicubic (longer side int(248 · long / short), as torchvision does), centre-crop 224, scale to [0, 1],
normalise with ImageNet mean/std.
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

IMAGE_SIZE = 224
CROP_PCT = 0.9
RESIZE_SIZE = int(math.floor(IMAGE_SIZE / CROP_PCT))  # 248
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def read_manifest(root):
    with open(os.path.join(root, "manifest.json")) as f:
        return json.load(f)


def resize_shorter_side(image, size):
    width, height = image.size
    if width <= height:
        new_size = (size, int(size * height / width))
    else:
        new_size = (int(size * width / height), size)
    return image.resize(new_size, Image.BICUBIC)


def center_crop(image, size):
    width, height = image.size
    left = int(round((width - size) / 2.0))
    top = int(round((height - size) / 2.0))
    return image.crop((left, top, left + size, top + size))


def load_rgb(path):
    with Image.open(path) as image:
        return image.convert("RGB")


def eval_crop(path):
    """uint8 [224, 224, 3]: exactly what timm's eval transform sees before scaling."""
    return np.asarray(center_crop(resize_shorter_side(load_rgb(path), RESIZE_SIZE), IMAGE_SIZE))


def train_square(path):
    """uint8 [248, 248, 3]: the resized photo's central square, the pool random crops are cut from."""
    return np.asarray(center_crop(resize_shorter_side(load_rgb(path), RESIZE_SIZE), RESIZE_SIZE))


def load_set(root, crop_fn, limit=None):
    """(uint8 tensor [N, 3, S, S], int64 labels [N], manifest records) for a synth_derm folder."""
    records = read_manifest(root)["images"][:limit]
    pixels = np.stack([crop_fn(os.path.join(root, r["image"])) for r in records])
    labels = np.array([r["class_index"] for r in records], dtype=np.int64)
    return torch.from_numpy(pixels).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(labels), records


def normalise(batch_uint8_or_float):
    x = batch_uint8_or_float.float() / 255.0 if batch_uint8_or_float.dtype == torch.uint8 else batch_uint8_or_float
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (x - mean) / std


def random_resized_crop(square, generator, scale=(0.6, 1.0), ratio=(3 / 4, 4 / 3)):
    """One mild random-resized crop of a uint8 [3, S, S] image to float [3, 224, 224] in [0, 1]."""
    size = square.shape[-1]
    area = size * size
    for _ in range(10):
        target = area * float(torch.empty(1).uniform_(*scale, generator=generator))
        log_ratio = float(torch.empty(1).uniform_(math.log(ratio[0]), math.log(ratio[1]), generator=generator))
        aspect = math.exp(log_ratio)
        w, h = int(round(math.sqrt(target * aspect))), int(round(math.sqrt(target / aspect)))
        if 0 < w <= size and 0 < h <= size:
            top = int(torch.randint(0, size - h + 1, (1,), generator=generator))
            left = int(torch.randint(0, size - w + 1, (1,), generator=generator))
            break
    else:
        top, left, h, w = 0, 0, size, size
    patch = square[:, top:top + h, left:left + w].float().unsqueeze(0) / 255.0
    return F.interpolate(patch, size=(IMAGE_SIZE, IMAGE_SIZE), mode="bilinear", align_corners=False)[0]


def colour_jitter(x, generator, strength=0.2):
    """Brightness, contrast and saturation each scaled by U(1 − s, 1 + s); batch [B, 3, H, W] in [0, 1]."""
    def factors():
        return torch.empty(x.shape[0], 1, 1, 1).uniform_(1 - strength, 1 + strength, generator=generator)
    x = x * factors()
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * factors() + mean
    grey = (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])
    x = (x - grey) * factors() + grey
    return x.clamp(0.0, 1.0)


def augment_batch(squares, generator):
    """Training view of a uint8 batch [B, 3, 248, 248]: crop, flips, quarter turns, colour jitter, normalise."""
    crops = []
    for square in squares:
        crop = random_resized_crop(square, generator)
        if torch.rand(1, generator=generator) < 0.5:
            crop = crop.flip(-1)
        crop = torch.rot90(crop, int(torch.randint(0, 4, (1,), generator=generator)), dims=(-2, -1))
        crops.append(crop)
    return normalise(colour_jitter(torch.stack(crops), generator))
