#!/usr/bin/env python3
"""Seeded, deterministic generator of synthetic phone-photo-like dermatology images with masks.

Every image is drawn from its own random stream, numpy.random.default_rng([seed, index]), so the same
seed gives byte-identical PNG/JPEG files whatever the number of worker processes.

Layout of OUT:
  images/<name>.png|jpg          the photo
  masks/<name>.lesion.png        255 where the lesion is (for cluster morphologies: the affected area)
  masks/<name>.artifact.png      255 where a ruler, ink mark or sticker is
  labels.txt                     one class label per line, class index = line number
  manifest.json                  generator settings and one metadata record per image

Usage:
  python3 tools/synth_derm/synth_derm.py --out DIR --count N [--seed S] [--start I] [--workers W]
      [--background-heavy-rate R] [--force-artifact KIND] [--shortcut-class K --shortcut-artifact sticker --shortcut-rate P]
"""
import argparse
import io
import json
import math
import os
import sys
from multiprocessing import Pool

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

LABELS = [
    "pigmented_irregular",
    "scaly_plaque",
    "follicular_papules",
    "annular_ring",
    "vesicle_cluster",
    "erythematous_patch",
]
BACKGROUNDS = ["keyboard", "paper", "fabric", "wall"]
ARTIFACTS = ["ruler", "ink", "sticker"]
# Probability of each artifact in an image when no shortcut is asked for (independent of the class).
BASE_ARTIFACT_RATE = {"ruler": 0.15, "ink": 0.15, "sticker": 0.12}

# Fitzpatrick I–VI-like base skin colours (sRGB), lightest to darkest.
SKIN_TONES = np.array([
    [242, 208, 188],
    [228, 184, 152],
    [203, 152, 116],
    [168, 116, 82],
    [122, 82, 56],
    [78, 52, 40],
], dtype=np.float32)

GENERATOR_VERSION = "1"


# ---------------------------------------------------------------- small drawing helpers

def smooth_noise(rng, height, width, cells):
    """Zero-mean, roughly unit-range value noise: a coarse random grid upsampled bicubically."""
    cells_y = max(2, int(round(cells * height / max(height, width))))
    cells_x = max(2, int(round(cells * width / max(height, width))))
    coarse = rng.random((cells_y, cells_x), dtype=np.float32) * 2.0 - 1.0
    return np.array(Image.fromarray(coarse, mode="F").resize((width, height), Image.BICUBIC))


def pixel_grid(height, width):
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    return ys, xs


def irregular_blob(ys, xs, cx, cy, radius, rng, roughness, edge, harmonics=6, aspect=1.0, angle=0.0):
    """Soft alpha (0..1) of a star-shaped blob whose radius wobbles with random harmonics."""
    dx, dy = xs - cx, ys - cy
    cos_a, sin_a = math.cos(angle), math.sin(angle)
    u = (dx * cos_a + dy * sin_a) / aspect
    v = -dx * sin_a + dy * cos_a
    theta = np.arctan2(v, u)
    wobble = np.ones_like(theta)
    for k in range(2, harmonics + 2):
        wobble += roughness * rng.uniform(0.3, 1.0) / (k ** 0.6) * np.cos(k * theta + rng.uniform(0, 2 * math.pi))
    return np.clip((radius * wobble - np.hypot(u, v)) / edge + 0.5, 0.0, 1.0), np.hypot(u, v), theta


def blend(image, colour, alpha):
    """image ← image·(1−α) + colour·α, colour an RGB triple or an image."""
    a = alpha[..., None]
    image *= 1.0 - a
    image += np.asarray(colour, dtype=np.float32) * a


def tint(image, factors, alpha):
    """Multiply RGB by factors where alpha is 1, smoothly in between."""
    f = 1.0 + (np.asarray(factors, dtype=np.float32) - 1.0) * alpha[..., None]
    image *= f


def jittered_points(rng, cx, cy, rx, ry, spacing):
    """Points on a jittered grid inside an ellipse: evenly spread, never two in one cell."""
    points = []
    ny, nx = int(2 * ry / spacing) + 1, int(2 * rx / spacing) + 1
    for j in range(ny):
        for i in range(nx):
            px = cx - rx + (i + rng.uniform(0.15, 0.85)) * spacing
            py = cy - ry + (j + rng.uniform(0.15, 0.85)) * spacing
            if ((px - cx) / rx) ** 2 + ((py - cy) / ry) ** 2 <= 1.0:
                points.append((px, py))
    return points


def draw_domes(shape, points, radii):
    """Per-pixel distance (in radii) to the nearest dome and that dome's offset, for a few dozen domes."""
    height, width = shape
    best = np.full(shape, np.inf, dtype=np.float32)
    off_x = np.zeros(shape, dtype=np.float32)
    off_y = np.zeros(shape, dtype=np.float32)
    for (px, py), r in zip(points, radii):
        x0, x1 = max(0, int(px - r - 2)), min(width, int(px + r + 3))
        y0, y1 = max(0, int(py - r - 2)), min(height, int(py + r + 3))
        if x0 >= x1 or y0 >= y1:
            continue
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        dx, dy = (xs - px) / r, (ys - py) / r
        d = np.hypot(dx, dy)
        window = best[y0:y1, x0:x1]
        closer = d < window
        window[closer] = d[closer]
        off_x[y0:y1, x0:x1][closer] = dx[closer]
        off_y[y0:y1, x0:x1][closer] = dy[closer]
    return best, off_x, off_y


# ---------------------------------------------------------------- backgrounds

def background_keyboard(rng, height, width):
    dark = rng.random() < 0.6
    base = np.array([38, 38, 42] if dark else [205, 205, 200], dtype=np.float32) + rng.uniform(-12, 12)
    key_colour = base + (22 if dark else -18)
    image = np.empty((height, width, 3), dtype=np.float32)
    image[:] = base
    pitch = rng.uniform(28, 46)
    gap = pitch * rng.uniform(0.12, 0.2)
    legend = np.array([200, 200, 200] if dark else [40, 40, 40], dtype=np.float32)
    pil = Image.fromarray(np.zeros((height, width), np.uint8))
    keys = ImageDraw.Draw(pil)
    letter_layer = Image.fromarray(np.zeros((height, width), np.uint8))
    letters = ImageDraw.Draw(letter_layer)
    shift = rng.uniform(0, pitch)
    for row, y in enumerate(np.arange(-rng.uniform(0, pitch), height, pitch)):
        row_shift = (shift + row * pitch * 0.25) % pitch
        for x in np.arange(-row_shift, width, pitch):
            keys.rounded_rectangle([x + gap / 2, y + gap / 2, x + pitch - gap / 2, y + pitch - gap / 2],
                                   radius=int(pitch * 0.12), fill=255)
            lx, ly = x + pitch * rng.uniform(0.25, 0.4), y + pitch * rng.uniform(0.25, 0.4)
            size = pitch * 0.22
            if rng.random() < 0.5:
                letters.line([lx, ly, lx + size, ly + size], fill=255, width=2)
                letters.line([lx + size, ly, lx, ly + size], fill=255, width=2)
            else:
                letters.rectangle([lx, ly, lx + size * 0.6, ly + size], outline=255, width=2)
    key_alpha = np.asarray(pil, dtype=np.float32) / 255.0
    blend(image, key_colour, key_alpha)
    blend(image, legend, np.asarray(letter_layer, dtype=np.float32) / 255.0 * key_alpha)
    return image


def background_paper(rng, height, width):
    image = np.empty((height, width, 3), dtype=np.float32)
    image[:] = np.array([238, 236, 228], dtype=np.float32) + rng.uniform(-10, 8)
    image += smooth_noise(rng, height, width, 6)[..., None] * 5
    if rng.random() < 0.7:  # ruled paper
        ys = np.arange(height, dtype=np.float32)[:, None]
        spacing = rng.uniform(16, 26)
        line = (np.abs(((ys - rng.uniform(0, spacing)) % spacing)) < 1.2).astype(np.float32) * 0.7
        blend(image, [120, 150, 210], np.broadcast_to(line, (height, width)).copy())
        if rng.random() < 0.5:
            margin = np.zeros((height, width), np.float32)
            mx = int(rng.uniform(0.08, 0.2) * width)
            margin[:, mx:mx + 2] = 0.7
            blend(image, [215, 100, 100], margin)
    return image


def background_fabric(rng, height, width):
    ys, xs = pixel_grid(height, width)
    colour = rng.uniform(40, 220, size=3).astype(np.float32)
    period = rng.uniform(3.0, 6.0)
    weave = np.sin(xs * 2 * math.pi / period) * np.sin(ys * 2 * math.pi / period)
    image = np.empty((height, width, 3), dtype=np.float32)
    image[:] = colour
    image *= (1.0 + 0.12 * weave + 0.08 * smooth_noise(rng, height, width, 10))[..., None]
    if rng.random() < 0.5:  # stripes or plaid
        stripe_period = rng.uniform(25, 60)
        stripes = (np.sin(xs * 2 * math.pi / stripe_period + rng.uniform(0, 6)) > 0.4).astype(np.float32)
        if rng.random() < 0.5:
            stripes = np.maximum(stripes, (np.sin(ys * 2 * math.pi / stripe_period) > 0.4).astype(np.float32))
        blend(image, rng.uniform(30, 230, size=3), stripes * 0.6)
    return image


def background_wall(rng, height, width):
    image = np.empty((height, width, 3), dtype=np.float32)
    image[:] = rng.uniform(150, 235, size=3).astype(np.float32)
    image *= (1.0 + 0.04 * smooth_noise(rng, height, width, 5) + 0.02 * smooth_noise(rng, height, width, 40))[..., None]
    return image


BACKGROUND_PAINTERS = {"keyboard": background_keyboard, "paper": background_paper,
                       "fabric": background_fabric, "wall": background_wall}


# ---------------------------------------------------------------- skin

def paint_skin(rng, height, width, tone_index):
    base = SKIN_TONES[tone_index] * rng.uniform(0.93, 1.06) + rng.uniform(-6, 6, size=3).astype(np.float32)
    skin = np.empty((height, width, 3), dtype=np.float32)
    skin[:] = base
    mottling = smooth_noise(rng, height, width, 7)
    skin *= (1.0 + 0.05 * mottling)[..., None]
    skin[..., 0] *= 1.0 + 0.03 * smooth_noise(rng, height, width, 12)  # faint redness variation
    skin += rng.normal(0.0, 2.0, size=(height, width, 1)).astype(np.float32)  # pores
    return skin


# ---------------------------------------------------------------- lesion morphologies
# Each painter changes `skin` in place and returns the lesion mask (bool).

ERYTHEMA = (1.0, 0.62, 0.64)


def lesion_pigmented_irregular(rng, skin, ys, xs, cx, cy, radius, scale):
    alpha, dist, _ = irregular_blob(ys, xs, cx, cy, radius, rng, roughness=rng.uniform(0.18, 0.32),
                                    edge=rng.uniform(1.5, 4.0), aspect=rng.uniform(0.75, 1.3),
                                    angle=rng.uniform(0, math.pi))
    shade = np.clip(0.5 + 0.5 * smooth_noise(rng, *dist.shape, max(4, int(radius / 6))), 0, 1)
    darkness = rng.uniform(0.35, 0.5) - 0.2 * shade  # multiplicative factor: lower = darker
    factors = np.stack([darkness * 1.05, darkness * 0.85, darkness * 0.72], axis=-1)
    skin *= 1.0 + (factors - 1.0) * alpha[..., None]
    if rng.random() < 0.5:  # blue-grey veil
        veil = np.clip(smooth_noise(rng, *dist.shape, 5) - 0.2, 0, 1) * alpha
        blend(skin, [95, 100, 120], veil * 0.6)
    dots = jittered_points(rng, cx, cy, radius * 0.8, radius * 0.8, radius * 0.28)
    near, _, _ = draw_domes(dist.shape, dots, [scale * rng.uniform(0.008, 0.014) for _ in dots])
    tint(skin, (0.55, 0.5, 0.5), np.clip(1.0 - near, 0, 1) * alpha)
    return alpha > 0.5


def lesion_scaly_plaque(rng, skin, ys, xs, cx, cy, radius, scale):
    alpha, dist, _ = irregular_blob(ys, xs, cx, cy, radius, rng, roughness=rng.uniform(0.06, 0.14),
                                    edge=rng.uniform(1.0, 2.0), aspect=rng.uniform(0.7, 1.4),
                                    angle=rng.uniform(0, math.pi))
    tint(skin, (0.96, 0.6, 0.64), alpha)
    flakes = smooth_noise(rng, *dist.shape, max(6, int(scale / 9)))
    flakes += 0.5 * smooth_noise(rng, *dist.shape, max(12, int(scale / 4)))
    scale_alpha = np.clip((flakes - rng.uniform(-0.1, 0.25)) * 3.0, 0, 1) * alpha
    silver = np.array([232, 228, 222], dtype=np.float32) * rng.uniform(0.9, 1.0)
    blend(skin, silver, scale_alpha * rng.uniform(0.6, 0.85))
    cracks = np.abs(smooth_noise(rng, *dist.shape, max(10, int(scale / 6)))) < 0.04
    tint(skin, (0.8, 0.75, 0.75), cracks.astype(np.float32) * alpha)
    return alpha > 0.5


def lesion_follicular_papules(rng, skin, ys, xs, cx, cy, radius, scale):
    rx, ry = radius * rng.uniform(0.9, 1.2), radius * rng.uniform(0.7, 1.0)
    area, _, _ = irregular_blob(ys, xs, cx, cy, radius, rng, roughness=0.08, edge=radius * 0.25,
                                aspect=rx / ry)
    tint(skin, (1.0, 0.92, 0.92), area * 0.8)  # faint background redness of the affected area
    spacing = scale * rng.uniform(0.035, 0.05)
    points = jittered_points(rng, cx, cy, rx * 1.05, ry * 1.05, spacing)
    radii = [scale * rng.uniform(0.009, 0.014) for _ in points]
    d, off_x, off_y = draw_domes(area.shape, points, radii)
    rim = np.clip(1.6 - d, 0, 1) * area
    tint(skin, ERYTHEMA, rim * 0.85)  # perifollicular redness
    dome = np.clip(1.0 - d, 0, 1) * area
    highlight = np.clip(1.0 - np.hypot(off_x + 0.35, off_y + 0.35) / 0.5, 0, 1) * dome
    blend(skin, [250, 235, 225], highlight * 0.45)
    plug = np.clip(1.0 - d / 0.3, 0, 1) * area
    tint(skin, (0.5, 0.45, 0.45), plug)  # keratin plug
    return area > 0.5


def lesion_annular_ring(rng, skin, ys, xs, cx, cy, radius, scale):
    _, dist, theta = irregular_blob(ys, xs, cx, cy, radius, rng, roughness=0.0, edge=1.0,
                                    aspect=rng.uniform(0.85, 1.2), angle=rng.uniform(0, math.pi))
    ring_radius = radius * (1.0 + 0.06 * np.cos(3 * theta + rng.uniform(0, 6)) + 0.04 * np.cos(5 * theta))
    thickness = radius * rng.uniform(0.14, 0.22)
    ring = np.exp(-((dist - ring_radius) / thickness) ** 2)
    tint(skin, (0.98, 0.58, 0.62), ring * 0.95)
    edge_scale = np.exp(-((dist - ring_radius + thickness * 0.6) / (thickness * 0.25)) ** 2)
    blend(skin, [236, 226, 220], edge_scale * 0.35)
    centre = np.clip((ring_radius - thickness - dist) / 4.0, 0, 1)
    tint(skin, (0.95, 0.9, 0.88), centre)
    return ring > 0.35


def lesion_vesicle_cluster(rng, skin, ys, xs, cx, cy, radius, scale):
    base, _, _ = irregular_blob(ys, xs, cx, cy, radius, rng, roughness=rng.uniform(0.08, 0.16),
                                edge=radius * 0.15, aspect=rng.uniform(0.75, 1.3), angle=rng.uniform(0, math.pi))
    tint(skin, ERYTHEMA, base * 0.9)
    spacing = scale * rng.uniform(0.05, 0.07)
    points = jittered_points(rng, cx, cy, radius * 0.78, radius * 0.78, spacing)
    radii = [scale * rng.uniform(0.017, 0.027) for _ in points]
    d, off_x, off_y = draw_domes(base.shape, points, radii)
    dome = np.clip((1.0 - d) * 4.0, 0, 1) * (base > 0.5)
    fluid = np.array([238, 228, 200], dtype=np.float32)
    blend(skin, fluid, dome * 0.55)
    rim = np.clip(1.0 - np.abs(d - 1.0) / 0.18, 0, 1) * (base > 0.5)
    tint(skin, (0.8, 0.55, 0.55), rim * 0.6)
    highlight = np.clip(1.0 - np.hypot(off_x + 0.35, off_y + 0.4) / 0.3, 0, 1) * dome
    blend(skin, [255, 255, 255], highlight * 0.85)
    return base > 0.5


def lesion_erythematous_patch(rng, skin, ys, xs, cx, cy, radius, scale):
    alpha, dist, _ = irregular_blob(ys, xs, cx, cy, radius, rng, roughness=rng.uniform(0.1, 0.2),
                                    edge=radius * rng.uniform(0.3, 0.5), aspect=rng.uniform(0.7, 1.4),
                                    angle=rng.uniform(0, math.pi))
    mottle = 1.0 + 0.1 * smooth_noise(rng, *dist.shape, 8)
    tint(skin, (0.98, 0.6, 0.62), alpha * rng.uniform(0.8, 1.0) * mottle)
    return alpha > 0.5


LESION_PAINTERS = [lesion_pigmented_irregular, lesion_scaly_plaque, lesion_follicular_papules,
                   lesion_annular_ring, lesion_vesicle_cluster, lesion_erythematous_patch]
# Relative lesion radius range (of the photo's shorter side) per class.
LESION_RADIUS = [(0.09, 0.18), (0.12, 0.22), (0.14, 0.22), (0.12, 0.2), (0.1, 0.17), (0.12, 0.22)]


# ---------------------------------------------------------------- hair and artifacts

def draw_hair(rng, height, width, count):
    layer = Image.new("L", (width, height), 0)
    pen = ImageDraw.Draw(layer)
    for _ in range(count):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        direction = rng.uniform(0, 2 * math.pi)
        length, curl = rng.uniform(20, 90), rng.uniform(-0.05, 0.05)
        points = [(x, y)]
        for _ in range(int(length / 4)):
            direction += curl
            x, y = x + 4 * math.cos(direction), y + 4 * math.sin(direction)
            points.append((x, y))
        pen.line(points, fill=int(rng.uniform(150, 255)), width=int(rng.integers(1, 3)))
    return np.asarray(layer.filter(ImageFilter.GaussianBlur(0.5)), dtype=np.float32) / 255.0


def place_away_from(rng, box_w, box_h, window, keep_out):
    """Top-left of a box inside window (x0,y0,x1,y1) that does not touch keep_out (bool); None if no luck."""
    x0, y0, x1, y1 = window
    for _ in range(40):
        if x1 - x0 - box_w <= 0 or y1 - y0 - box_h <= 0:
            return None
        bx, by = rng.uniform(x0, x1 - box_w), rng.uniform(y0, y1 - box_h)
        if not keep_out[int(by):int(by + box_h) + 1, int(bx):int(bx + box_w) + 1].any():
            return bx, by
    return None


def draw_ruler(rng, image, mask_layer, window, keep_out, scale):
    horizontal = rng.random() < 0.5
    length, breadth = scale * rng.uniform(0.5, 0.8), scale * rng.uniform(0.07, 0.1)
    w, h = (length, breadth) if horizontal else (breadth, length)
    spot = place_away_from(rng, w, h, window, keep_out)
    if spot is None:
        return None
    bx, by = spot
    layer = Image.new("L", image.shape[1::-1], 0)
    ticks = Image.new("L", image.shape[1::-1], 0)
    ImageDraw.Draw(layer).rectangle([bx, by, bx + w, by + h], fill=255)
    pen = ImageDraw.Draw(ticks)
    step = scale * 0.03
    for k in range(int(length / step) + 1):
        tick = breadth * (0.5 if k % 5 == 0 else 0.28)
        if horizontal:
            pen.line([bx + k * step, by, bx + k * step, by + tick], fill=255, width=1)
        else:
            pen.line([bx, by + k * step, bx + tick, by + k * step], fill=255, width=1)
    alpha = np.asarray(layer, dtype=np.float32) / 255.0
    blend(image, [236, 226, 170] if rng.random() < 0.5 else [240, 240, 236], alpha)
    blend(image, [30, 30, 30], np.asarray(ticks, dtype=np.float32) / 255.0 * alpha)
    mask_layer |= alpha > 0.5
    return [int(bx), int(by), int(bx + w), int(by + h)]


def draw_ink(rng, image, mask_layer, window, keep_out, scale):
    w = h = scale * rng.uniform(0.12, 0.2)
    spot = place_away_from(rng, w, h, window, keep_out)
    if spot is None:
        return None
    bx, by = spot
    layer = Image.new("L", image.shape[1::-1], 0)
    pen = ImageDraw.Draw(layer)
    width = max(2, int(scale * 0.008))
    for _ in range(int(rng.integers(1, 4))):
        x0, y0 = bx + rng.uniform(0, w), by + rng.uniform(0, h)
        if rng.random() < 0.5:
            r = scale * 0.012
            pen.ellipse([x0 - r, y0 - r, x0 + r, y0 + r], fill=255)
        else:
            pen.line([x0, y0, bx + rng.uniform(0, w), by + rng.uniform(0, h)], fill=255, width=width)
    alpha = np.asarray(layer.filter(ImageFilter.GaussianBlur(0.7)), dtype=np.float32) / 255.0
    colours = [[90, 40, 140], [40, 60, 150], [25, 25, 30]]
    blend(image, colours[int(rng.integers(0, 3))], alpha * 0.9)
    mask_layer |= alpha > 0.3
    return [int(bx), int(by), int(bx + w), int(by + h)]


def draw_sticker(rng, image, mask_layer, window, keep_out, scale):
    r = scale * rng.uniform(0.045, 0.065)
    spot = place_away_from(rng, 2 * r, 2 * r, window, keep_out)
    if spot is None:
        return None
    cx, cy = spot[0] + r, spot[1] + r
    ys, xs = pixel_grid(*image.shape[:2])
    d = np.hypot(xs - cx, ys - cy) / r
    disc = np.clip((1.0 - d) * r, 0, 1)
    colours = [[245, 140, 30], [60, 190, 80], [240, 210, 40]]
    blend(image, [250, 250, 250], disc)
    blend(image, colours[int(rng.integers(0, 3))], np.clip((0.82 - d) * r, 0, 1))
    blend(image, [255, 255, 255], np.clip(1.0 - np.hypot(xs - cx + 0.3 * r, ys - cy + 0.3 * r) / (0.25 * r), 0, 1) * 0.5)
    mask_layer |= disc > 0.5
    return [int(cx - r), int(cy - r), int(cx + r), int(cy + r)]


ARTIFACT_PAINTERS = {"ruler": draw_ruler, "ink": draw_ink, "sticker": draw_sticker}


# ---------------------------------------------------------------- one image

def artifact_rates(class_index, shortcut, forced_artifacts=()):
    rates = dict(BASE_ARTIFACT_RATE)
    rates.update({kind: 1.0 for kind in forced_artifacts})
    if shortcut is not None:
        kind = shortcut["artifact"]
        rates[kind] = shortcut["rate"] if class_index == shortcut["class"] else BASE_ARTIFACT_RATE[kind] * (1 - shortcut["rate"])
    return rates


def balanced_design(index):
    """Class, tone and background from the index: a Latin-square cycle, so every block of 36 (tones)
    and 144 (backgrounds) images is balanced and neither is correlated with the class."""
    class_index = index % len(LABELS)
    round_ = index // len(LABELS)
    tone_index = (class_index + round_) % len(SKIN_TONES)
    background = BACKGROUNDS[(class_index + round_ + index // 36) % len(BACKGROUNDS)]
    return class_index, tone_index, background


def render(seed, index, shortcut=None, background_heavy_rate=0.3, forced_artifacts=()):
    """Draw one photo; returns (RGB uint8 array, lesion mask, artifact mask, metadata dict)."""
    rng = np.random.default_rng([seed, index])
    class_index, tone_index, background = balanced_design(index)
    short, long_ = int(rng.integers(260, 400)), 0
    long_ = int(min(480, short * rng.uniform(1.0, 1.45)))
    width, height = (long_, short) if rng.random() < 0.5 else (short, long_)
    ys, xs = pixel_grid(height, width)

    image = BACKGROUND_PAINTERS[background](rng, height, width)

    # Lesion near the middle of the central square (what a centre crop keeps), skin around it.
    lo, hi = LESION_RADIUS[class_index]
    radius = short * rng.uniform(lo, hi)
    cx = width / 2 + rng.uniform(-0.12, 0.12) * short
    cy = height / 2 + rng.uniform(-0.12, 0.12) * short
    background_heavy = rng.random() < background_heavy_rate
    if background_heavy:
        skin_radius = radius * rng.uniform(1.55, 2.1)
    else:
        skin_radius = short * rng.uniform(0.55, 1.1)
    skin_alpha, skin_dist, _ = irregular_blob(
        ys, xs, cx + rng.uniform(-0.2, 0.2) * (skin_radius - 1.45 * radius),
        cy + rng.uniform(-0.2, 0.2) * (skin_radius - 1.45 * radius), skin_radius, rng,
        roughness=0.05, edge=rng.uniform(3, 8), aspect=rng.uniform(1.0, 1.8), angle=rng.uniform(0, math.pi))
    skin = paint_skin(rng, height, width, tone_index)
    skin *= (1.0 - 0.25 * np.clip(skin_dist / skin_radius, 0, 1) ** 3)[..., None]  # limb curvature shading
    lesion_mask = LESION_PAINTERS[class_index](rng, skin, ys, xs, cx, cy, radius, short)
    lesion_mask &= skin_alpha > 0.99

    hair_count = int(rng.choice([0, 0, 5, 15, 35]) * (0.6 + 0.1 * tone_index))
    if hair_count:
        hair = draw_hair(rng, height, width, hair_count)
        blend(skin, np.array([40, 28, 20], np.float32) * rng.uniform(0.6, 1.2), hair * 0.85)
    blend(image, skin, skin_alpha)

    # Artifacts inside the central crop window, never touching the (dilated) lesion or each other.
    margin = (short - short * 0.9) / 2 + 2
    window = ((width - short) / 2 + margin, (height - short) / 2 + margin,
              (width + short) / 2 - margin, (height + short) / 2 - margin)
    keep_out = np.asarray(Image.fromarray(lesion_mask.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(9))) > 0
    artifact_mask = np.zeros((height, width), dtype=bool)
    artifacts = []
    for kind, rate in artifact_rates(class_index, shortcut, forced_artifacts).items():
        if rng.random() < rate:
            box = ARTIFACT_PAINTERS[kind](rng, image, artifact_mask, window, keep_out | artifact_mask, short)
            if box is not None:
                artifacts.append({"kind": kind, "box": box})

    # Camera: lighting gradient, blur, sensor noise, JPEG.
    angle = rng.uniform(0, 2 * math.pi)
    ramp = ((xs - width / 2) * math.cos(angle) + (ys - height / 2) * math.sin(angle)) / max(width, height)
    light = rng.uniform(0.9, 1.1) + rng.uniform(0.1, 0.45) * ramp
    image *= light[..., None]
    image *= np.array([1.0, 1.0, 1.0], np.float32) + rng.uniform(-0.05, 0.05, size=3).astype(np.float32)  # white balance
    blur = float(rng.uniform(0.3, 1.4)) if rng.random() < 0.4 else 0.0
    noise = float(rng.uniform(1.0, 5.0))
    image += rng.normal(0.0, noise, size=image.shape).astype(np.float32)
    pixels = Image.fromarray(np.clip(image + 0.5, 0, 255).astype(np.uint8))
    if blur:
        pixels = pixels.filter(ImageFilter.GaussianBlur(blur))
    file_format = "jpeg" if rng.random() < 0.35 else "png"
    quality = int(rng.integers(55, 93)) if file_format == "jpeg" else None
    if file_format == "png" and rng.random() < 0.25:  # JPEG noise from an earlier re-save
        buffer = io.BytesIO()
        pixels.save(buffer, format="JPEG", quality=int(rng.integers(45, 85)))
        pixels = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")

    meta = {
        "class_index": class_index,
        "label": LABELS[class_index],
        "fitzpatrick": tone_index + 1,
        "background": background,
        "background_fraction": round(float(1.0 - skin_alpha.mean()), 4),
        "artifacts": artifacts,
        "hair_strands": hair_count,
        "blur_radius": round(blur, 3),
        "noise_sigma": round(noise, 3),
        "format": file_format,
        "jpeg_quality": quality,
        "width": width,
        "height": height,
        "lesion_fraction": round(float(lesion_mask.mean()), 5),
    }
    return pixels, lesion_mask, artifact_mask, meta


def write_one(job):
    out, seed, index, prefix, shortcut, background_heavy_rate, forced_artifacts = job
    pixels, lesion_mask, artifact_mask, meta = render(seed, index, shortcut, background_heavy_rate, forced_artifacts)
    name = f"{prefix}{index:06d}"
    extension = "jpg" if meta["format"] == "jpeg" else "png"
    image_file = f"images/{name}.{extension}"
    if extension == "jpg":
        pixels.save(os.path.join(out, image_file), format="JPEG", quality=meta["jpeg_quality"])
    else:
        pixels.save(os.path.join(out, image_file), format="PNG")
    lesion_file, artifact_file = f"masks/{name}.lesion.png", f"masks/{name}.artifact.png"
    Image.fromarray(lesion_mask.astype(np.uint8) * 255).save(os.path.join(out, lesion_file), format="PNG")
    Image.fromarray(artifact_mask.astype(np.uint8) * 255).save(os.path.join(out, artifact_file), format="PNG")
    return {"name": name, "index": index, "image": image_file, "lesion_mask": lesion_file,
            "artifact_mask": artifact_file, **meta}


def generate(out, count, seed, start=0, workers=1, prefix="synth_", shortcut=None, background_heavy_rate=0.3,
             forced_artifacts=()):
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    os.makedirs(os.path.join(out, "masks"), exist_ok=True)
    jobs = [(out, seed, index, prefix, shortcut, background_heavy_rate, tuple(forced_artifacts))
            for index in range(start, start + count)]
    if workers > 1:
        with Pool(workers) as pool:
            records = pool.map(write_one, jobs, chunksize=16)
    else:
        records = [write_one(job) for job in jobs]
    with open(os.path.join(out, "labels.txt"), "w") as f:
        f.write("\n".join(LABELS) + "\n")
    manifest = {
        "generator": "tools/synth_derm/synth_derm.py",
        "generator_version": GENERATOR_VERSION,
        "seed": seed, "start": start, "count": count, "shortcut": shortcut,
        "background_heavy_rate": background_heavy_rate, "forced_artifacts": list(forced_artifacts),
        "labels": LABELS,
        "synthetic": True,
        "images": records,
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    return manifest


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--start", type=int, default=0, help="first image index (disjoint index ranges = disjoint sets)")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--prefix", default="synth_")
    p.add_argument("--background-heavy-rate", type=float, default=0.3,
                   help="share of photos where the skin is a small patch and the background most of the frame")
    p.add_argument("--force-artifact", action="append", choices=ARTIFACTS, default=[],
                   help="put this artifact on every photo (probe sets); repeatable")
    p.add_argument("--shortcut-class", type=int)
    p.add_argument("--shortcut-artifact", choices=ARTIFACTS, default="sticker")
    p.add_argument("--shortcut-rate", type=float, default=0.9,
                   help="P(artifact | shortcut class); other classes get it with base rate × (1 − P)")
    args = p.parse_args(argv)
    if args.shortcut_class is not None and not 0 <= args.shortcut_class < len(LABELS):
        p.error(f"--shortcut-class must be in 0..{len(LABELS) - 1}")
    return args


def main(argv=None):
    args = parse_args(argv)
    shortcut = None
    if args.shortcut_class is not None:
        shortcut = {"class": args.shortcut_class, "artifact": args.shortcut_artifact, "rate": args.shortcut_rate}
    manifest = generate(args.out, args.count, args.seed, args.start, args.workers, args.prefix, shortcut,
                        args.background_heavy_rate, args.force_artifact)
    print(f"wrote {len(manifest['images'])} images to {args.out}")


if __name__ == "__main__":
    sys.exit(main())
