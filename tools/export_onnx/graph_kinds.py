"""The three graphs of one export (docs/contract.md#the-graph-set): full, gradient and forward, each
optionally with head-reduced outputs (--reduce-heads), with their ONNX input/output shapes."""
from collections import OrderedDict

import torch
from torch import nn

GRAPH_KINDS = ("full", "gradient", "forward")
BATCH, ROWS = "batch", "targets"  # symbolic dims: images B, target rows R


def head_reductions(kind, outputs, target_image):
    """Contract v1 outputs (dict) -> the reduced outputs of the same graph kind, in their order:
    attn_mean [L,B,N,N]; grad_attn_map, grad_rel_map, rel_map [L,R,N,N] (mean over heads of the
    positive part); attn_last [1,B,H,N,N], attn_grad_last [1,R,H,N,N] for per-head weights."""
    attn = outputs["attn"]
    reduced = OrderedDict(logits=outputs["logits"])
    if kind != "forward":
        reduced["target"] = outputs["target"]
    reduced["attn_mean"] = attn.mean(dim=2)
    if kind == "forward":
        return reduced
    grad = outputs["attn_grad"]
    reduced["grad_attn_map"] = torch.clamp(grad * attn.index_select(1, target_image), min=0).mean(dim=2)
    if kind == "full":
        rel = outputs["attn_rel"]
        reduced["grad_rel_map"] = torch.clamp(grad * rel, min=0).mean(dim=2)
        reduced["rel_map"] = torch.clamp(rel, min=0).mean(dim=2)
    reduced["attn_last"] = attn[-1:]
    reduced["attn_grad_last"] = grad[-1:]
    return reduced


def output_shapes(kind, config, reduced=False):
    L, H, N, C = config.depth, config.num_heads, config.tokens, config.num_classes
    images, rows = [L, BATCH, H, N, N], [L, ROWS, H, N, N]
    if reduced:
        shapes = OrderedDict(logits=[BATCH, C], target=[ROWS], attn_mean=[L, BATCH, N, N],
                             grad_attn_map=[L, ROWS, N, N], grad_rel_map=[L, ROWS, N, N],
                             rel_map=[L, ROWS, N, N], attn_last=[1, BATCH, H, N, N],
                             attn_grad_last=[1, ROWS, H, N, N])
    else:
        shapes = OrderedDict(logits=[BATCH, C], target=[ROWS], attn=images, attn_grad=rows, attn_rel=rows)
    dropped = {"full": (), "gradient": ("attn_rel", "grad_rel_map", "rel_map"),
               "forward": ("target", "attn_grad", "attn_rel", "grad_attn_map", "grad_rel_map", "rel_map",
                           "attn_last", "attn_grad_last")}[kind]
    return OrderedDict((name, dims) for name, dims in shapes.items() if name not in dropped)


def input_shapes(kind, config):
    S = config.image_size
    shapes = OrderedDict(pixel_values=[BATCH, 3, S, S])
    if kind != "forward":
        shapes.update(target_class=[ROWS], target_image=[ROWS])
    return shapes


class ContractGraph(nn.Module):
    """One graph kind of a VitGraph: full (pixel_values, target_class, target_image -> logits,
    target, attn, attn_grad, attn_rel), gradient (the same without attn_rel: no LRP pass is built)
    or forward (pixel_values -> logits, attn)."""

    def __init__(self, vit, kind, reduced=False):
        super().__init__()
        assert kind in GRAPH_KINDS
        self.vit, self.kind, self.reduced = vit, kind, reduced

    def outputs(self, pixel_values, target_class=None, target_image=None):
        """The graph's outputs as an ordered dict (also for tests and the precision table)."""
        if self.kind == "forward":
            logits, attn = self.vit.classify(pixel_values)
            full = OrderedDict(logits=logits, attn=attn)
        else:
            values = self.vit.explain(pixel_values, target_class, target_image, relevance=self.kind == "full")
            full = OrderedDict(zip(("logits", "target", "attn", "attn_grad", "attn_rel"), values))
            if self.kind == "gradient":
                del full["attn_rel"]
        if not self.reduced:
            return full
        if target_image is None and self.kind != "forward":
            target_image = torch.arange(pixel_values.shape[0])
        return head_reductions(self.kind, full, target_image)

    def forward(self, *inputs):
        return tuple(self.outputs(*inputs).values())


def example_inputs(kind, vit):
    """Trace inputs with B = 2 images and R = 3 target rows, so no dim is mistaken for another."""
    S = vit.config.image_size
    pixels = torch.zeros(2, 3, S, S, dtype=vit.dtype)
    if kind == "forward":
        return (pixels,)
    return pixels, torch.tensor([-1, 0, -1], dtype=torch.int64), torch.tensor([0, 1, 1], dtype=torch.int64)
