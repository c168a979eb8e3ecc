#!/usr/bin/env python3
"""Writes the JPEG variants that ImageSharp 2.1 cannot encode, as seeds for the fuzz corpus.

Run from this folder with Debian's python3-pil: /usr/bin/python3 make_fixtures.py
The outputs are committed (a few KB each); the tests never run this script.
"""
from PIL import Image, ImageDraw


def photo(width, height):
    """A deterministic picture with edges and gradients, so every JPEG coefficient band is used."""
    image = Image.new("RGB", (width, height))
    pixels = image.load()
    for y in range(height):
        for x in range(width):
            pixels[x, y] = ((x * 255) // width, (y * 255) // height, ((x ^ y) * 7) & 255)
    ImageDraw.Draw(image).ellipse((width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill=(150, 60, 40))
    return image


base = photo(96, 64)
base.save("progressive.jpg", "JPEG", quality=85, progressive=True)
base.convert("CMYK").save("cmyk.jpg", "JPEG", quality=85)
base.convert("CMYK").save("cmyk_progressive.jpg", "JPEG", quality=85, progressive=True)
base.save("progressive_optimized_444.jpg", "JPEG", quality=90, progressive=True, optimize=True, subsampling=0)
