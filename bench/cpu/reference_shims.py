"""Run-time stand-ins that let the published reference code run on a CPU-only Debian torch.

The reference imports `einops.rearrange` (not packaged for Debian) and calls `.cuda()` on tensors.
Nothing here is the reference's code: `rearrange` is a small implementation of einops' documented
semantics for plain axis names and parenthesised groups, which is all the reference's ViT uses.
"""
import sys
import types

import torch


def _parse_side(side):
    """'b n (qkv h d)' -> [['b'], ['n'], ['qkv', 'h', 'd']]"""
    groups, current = [], None
    for token in side.replace("(", " ( ").replace(")", " ) ").split():
        if token == "(":
            current = []
        elif token == ")":
            groups.append(current)
            current = None
        elif current is not None:
            current.append(token)
        else:
            groups.append([token])
    return groups


def rearrange(tensor, pattern, **sizes):
    if isinstance(tensor, (list, tuple)):
        tensor = torch.stack(list(tensor))
    left, right = (_parse_side(side) for side in pattern.split("->"))
    known = dict(sizes)
    for group, extent in zip(left, tensor.shape):
        unknown = [axis for axis in group if axis not in known]
        product = 1
        for axis in group:
            product *= known.get(axis, 1)
        if len(unknown) == 1:
            known[unknown[0]] = extent // product
        elif unknown:
            raise ValueError(f"rearrange: cannot infer {unknown} in {pattern}")
    elementary = [axis for group in left for axis in group]
    order = [elementary.index(axis) for group in right for axis in group]
    split = tensor.reshape([known[axis] for axis in elementary]).permute(order)
    result = split.reshape([_product(known[axis] for axis in group) for group in right])
    return result


def _product(values):
    out = 1
    for value in values:
        out *= value
    return out


def install():
    """einops where it is missing; `.cuda()` as a no-op where CUDA is absent (the reference's calls)."""
    try:
        import einops  # noqa: F401
    except ImportError:
        module = types.ModuleType("einops")
        module.rearrange = rearrange
        sys.modules["einops"] = module
    if not torch.cuda.is_available():
        torch.Tensor.cuda = lambda self, *args, **kwargs: self
        torch.nn.Module.cuda = lambda self, *args, **kwargs: self
