"""The exported computation: a timm-compatible ViT forward, its hand-written backward to the
attention maps and the reference's LRP pass, all as plain batched tensor ops (docs/methods.md#forward-pass, #lrp-rules, #gradient-graph).

Covers the timm families of docs/model-families.md: prefix tokens [cls, (dist), (reg…)], position
embedding with or without the prefix rows, pre-norm, LayerScale, q/k norm, GELU or QuickGELU,
class-token / mean pooling with or without fc_norm, and the distilled two-head readout.
Batch is the leading dimension everywhere and no op mixes images.
"""
import math

import torch
from torch import nn

from erf64 import erf_cody, erf_float32
from lrp_rules import LayerNormParts, linear, linear_parts, merge_heads, split_qkv
from vit_cache import BlockCache, Readout
from vit_passes import BackwardPasses, leading_rows

QUICK_GELU_ALPHA = 1.702


BLOCK_KEYS = (("norm1_w", "norm1.weight"), ("norm1_b", "norm1.bias"), ("qkv_w", "attn.qkv.weight"),
              ("qkv_b", "attn.qkv.bias"), ("proj_w", "attn.proj.weight"), ("proj_b", "attn.proj.bias"),
              ("norm2_w", "norm2.weight"), ("norm2_b", "norm2.bias"), ("fc1_w", "mlp.fc1.weight"),
              ("fc1_b", "mlp.fc1.bias"), ("fc2_w", "mlp.fc2.weight"), ("fc2_b", "mlp.fc2.bias"),
              ("ls1", "ls1.gamma"), ("ls2", "ls2.gamma"), ("qn_w", "attn.q_norm.weight"),
              ("qn_b", "attn.q_norm.bias"), ("kn_w", "attn.k_norm.weight"), ("kn_b", "attn.k_norm.bias"))


class VitGraph(BackwardPasses, nn.Module):
    """Holds the weights (in the export dtype) and computes the contract's tensors.

    `dtype` is the graph's: inputs, outputs, weights, the gradient and the LRP pass. `forward_dtype`
    (default `dtype`) is the forward pass's: float64 in a float32 graph is the `mixed` precision of
    the export (README, "Precision")."""

    def __init__(self, config, state_dict, dtype=torch.float32, sums_dtype=None, forward_dtype=None):
        super().__init__()
        self.config = c = config
        self.dtype = dtype
        self.forward_dtype = forward_dtype or dtype
        self.sums_dtype = sums_dtype or dtype
        self.erf = erf_cody if dtype == torch.float64 else torch.erf
        self.forward_erf = erf_cody if dtype == torch.float64 else erf_float32

        def param(key, shape=None):
            if key not in state_dict:
                return None
            t = state_dict[key].detach().to(dtype).clone()
            return nn.Parameter(t.reshape(shape) if shape else t, requires_grad=False)

        self.patch_weight = param("patch_embed.proj.weight", (c.width, -1))  # [D, 3p²], feature (c,u,v)
        self.patch_bias = param("patch_embed.proj.bias")
        prefix = [state_dict[k] for k in ("cls_token", "dist_token", "reg_token") if k in state_dict]
        self.prefix = (nn.Parameter(torch.cat(prefix, dim=1).detach().to(dtype), requires_grad=False)
                       if prefix else None)
        self.pos_embed = param("pos_embed")
        self.pre_w, self.pre_b = param("norm_pre.weight"), param("norm_pre.bias")
        self.blocks = nn.ModuleList()
        for i in range(c.depth):
            block = nn.Module()
            for name, key in BLOCK_KEYS:
                setattr(block, name, param(f"blocks.{i}.{key}"))
            self.blocks.append(block)
        self.norm_w, self.norm_b = param("norm.weight"), param("norm.bias")
        self.fc_norm_w, self.fc_norm_b = param("fc_norm.weight"), param("fc_norm.bias")
        self.head_w, self.head_b = param("head.weight"), param("head.bias")
        self.head_dist_w, self.head_dist_b = param("head_dist.weight"), param("head_dist.bias")
        rows = torch.zeros(1, c.readout_rows, 1, dtype=dtype)
        if c.global_pool == "token":
            rows[0, 0, 0] = 1
        else:
            first, end = c.pooled_rows()
            rows[0, first:end, 0] = 1.0 / (end - first)
        self.register_buffer("pool_rows", rows)
        self.register_buffer("class_ids", torch.arange(c.num_classes, dtype=torch.int64))
        # The attention scale d^-0.5 as vectors, not a scalar: ONNX Runtime fuses MatMul with a
        # scalar Mul into FusedMatMul whose alpha is a float32 attribute, which costs a float64
        # graph ~1e-8 whenever d^-0.5 is not a float32 number (d = 32).
        self.register_buffer("scale_keys", torch.full((c.tokens,), c.head_dim ** -0.5, dtype=dtype))
        self.register_buffer("scale_features", torch.full((c.head_dim,), c.head_dim ** -0.5, dtype=dtype))

    # -------------------------------------------------------------- forward

    def fw(self, t):
        """A weight or input in the forward dtype (no op, so no ONNX node, when it is already)."""
        return t if t is None or t.dtype == self.forward_dtype else t.to(self.forward_dtype)

    def layer_norm(self, x, weight, bias):
        return LayerNormParts(x, self.fw(weight), self.fw(bias), self.config.ln_eps)

    def embed(self, pixel_values):
        """Patch tokens (Conv2d with kernel = stride = p as reshape + MatMul: ORT CPU has no float64
        Conv), prefix tokens and position embedding in timm's order, then norm_pre."""
        c, fw = self.config, self.fw
        g, p = c.grid, c.patch_size
        patches = pixel_values.reshape(-1, 3, g, p, g, p).permute(0, 2, 4, 1, 3, 5).reshape(-1, g * g, 3 * p * p)
        x = linear(patches, fw(self.patch_weight), fw(self.patch_bias))
        if c.no_embed_class:
            x = x + fw(self.pos_embed)
        if self.prefix is not None:
            x = torch.cat([fw(self.prefix).expand(x.shape[0], -1, -1), x], dim=1)
        if not c.no_embed_class:
            x = x + fw(self.pos_embed)
        return self.layer_norm(x, self.pre_w, self.pre_b).output if c.pre_norm else x

    def act(self, x):
        if self.config.act == "quick_gelu":
            return x / (1.0 + torch.exp(-QUICK_GELU_ALPHA * x))
        return 0.5 * x * (1.0 + self.forward_erf(x * (1.0 / math.sqrt(2.0))))

    def act_derivative(self, x):
        if self.config.act == "quick_gelu":
            sig = 1.0 / (1.0 + torch.exp(-QUICK_GELU_ALPHA * x))
            return sig + QUICK_GELU_ALPHA * x * sig * (1.0 - sig)
        cdf = 0.5 * (1.0 + self.erf(x * (1.0 / math.sqrt(2.0))))
        pdf = torch.exp(-0.5 * x * x) * (1.0 / math.sqrt(2.0 * math.pi))
        return cdf + x * pdf

    def kept_rows(self, index):
        """Token rows block `index` computes after its attention (vit_passes): all, except in the last
        block, which keeps only the rows the readout reads."""
        return self.config.readout_rows if index == self.config.depth - 1 else self.config.tokens

    def softmax(self, scores):
        """Softmax over the keys. ONNX Runtime's float64 Softmax took 2–3 ms for one ViT-B block's
        [12, 197, 197] scores on 2 CPU threads; as elementwise ops (max, exp, sum, one reciprocal per
        row) the same float64 result took about 1 ms."""
        if self.forward_dtype != torch.float64:
            return torch.softmax(scores, dim=-1)
        e = torch.exp(scores - scores.amax(dim=-1, keepdim=True))
        return e * (1.0 / e.sum(dim=-1, keepdim=True))

    def block_forward(self, index, x_in):
        """Block `index` on x_in [B, N, D]: the full attention map, then its kept rows onwards."""
        c, fw, block = self.config, self.fw, self.blocks[index]
        N, H, d, D, K = c.tokens, c.num_heads, c.head_dim, c.width, self.kept_rows(index)
        cache = BlockCache()
        cache.x_in = x_in
        cache.ln1 = self.layer_norm(x_in, block.norm1_w, block.norm1_b)
        cache.qkv_product, qkv = linear_parts(cache.ln1.output, fw(block.qkv_w), fw(block.qkv_b))
        q, k, cache.v = split_qkv(qkv, N, H, d)
        cache.qn = cache.kn = None
        if c.qk_norm:
            cache.qn = self.layer_norm(q, block.qn_w, block.qn_b)
            cache.kn = self.layer_norm(k, block.kn_w, block.kn_b)
            q, k = cache.qn.output, cache.kn.output
        cache.q, cache.k = q, k
        cache.qk = torch.matmul(q, k.transpose(-1, -2))
        cache.attn = self.softmax(cache.qk * fw(self.scale_keys))
        cache.attn_v = torch.matmul(leading_rows(cache.attn, K, N, 2), cache.v)
        cache.o = merge_heads(cache.attn_v, K, D)
        cache.proj_product, cache.aout = linear_parts(cache.o, fw(block.proj_w), fw(block.proj_b))
        if c.layer_scale:
            cache.aout = cache.aout * fw(block.ls1)
        cache.xmid = leading_rows(x_in, K, N, 1) + cache.aout
        cache.ln2 = self.layer_norm(cache.xmid, block.norm2_w, block.norm2_b)
        cache.fc1_product, cache.f1 = linear_parts(cache.ln2.output, fw(block.fc1_w), fw(block.fc1_b))
        cache.gl = self.act(cache.f1)
        cache.fc2_product, cache.f2 = linear_parts(cache.gl, fw(block.fc2_w), fw(block.fc2_b))
        if c.layer_scale:
            cache.f2 = cache.f2 * fw(block.ls2)
        return cache.xmid + cache.f2, cache

    def forward_pass(self, pixel_values):
        """Returns logits (in `dtype`), the per-block caches, the final LayerNorm parts (None without
        a final norm) and the Readout, the last three in `forward_dtype`."""
        c, fw = self.config, self.fw
        x = self.embed(fw(pixel_values))
        caches = []
        for index in range(c.depth):
            x, cache = self.block_forward(index, x)
            caches.append(cache)
        final_ln = self.layer_norm(x, self.norm_w, self.norm_b) if c.final_norm else None
        readout = Readout()
        readout.tokens = z = final_ln.output if final_ln is not None else x
        readout.fc_ln = None
        if c.dist_token:
            readout.pooled = readout.feature = z[:, :2]
            logits = (linear(z[:, 0], fw(self.head_w), fw(self.head_b))
                      + linear(z[:, 1], fw(self.head_dist_w), fw(self.head_dist_b))) / 2
        else:
            if c.global_pool == "token":
                readout.pooled = z[:, 0]
            else:
                first, end = c.pooled_rows()
                readout.pooled = z[:, first:end].mean(dim=1)
            readout.feature = readout.pooled
            if c.fc_norm:
                readout.fc_ln = self.layer_norm(readout.pooled, self.fc_norm_w, self.fc_norm_b)
                readout.feature = readout.fc_ln.output
            logits = linear(readout.feature, fw(self.head_w), fw(self.head_b))
        return (logits if logits.dtype == self.dtype else logits.to(self.dtype)), caches, final_ln, readout

    def resolve_target(self, logits, target_class):
        """-r -> the row's r-th ranked class (-1: the argmax; r > C: the last); a class ≥ C is clamped
        to C-1. `target` reports the result. Ranking in the graph lets a top-k request explain its k
        classes in the run that classifies the photo. Equal logits rank the lower class first (ONNX
        TopK's order, and the engine's)."""
        classes = self.config.num_classes
        order = torch.topk(logits, classes, dim=-1).indices
        rank = torch.clamp(-target_class - 1, min=0, max=classes - 1)
        ranked = order.gather(1, rank.unsqueeze(1)).squeeze(1)
        last = torch.full_like(target_class, classes - 1)
        clamped = torch.where(target_class >= classes, last, target_class)
        return torch.where(target_class < 0, ranked, clamped)

    def one_hot(self, target):
        return (self.class_ids.unsqueeze(0) == target.unsqueeze(1)).to(self.dtype)

    def explain(self, pixel_values, target_class, target_image=None, relevance=True):
        """(logits [B,C], target [R], attn [L,B,H,N,N], attn_grad [L,R,H,N,N], attn_rel [L,R,H,N,N]).

        One forward pass per image; target row r explains class target_class[r] of image
        target_image[r] (default: row r of the batch, R = B). The gradient and LRP passes run on the
        target rows' gathered activations, so row r reads only its own image; what they read that does
        not depend on the target is computed per image before the gather. Without `relevance`
        the LRP pass is not built and attn_rel is None."""
        logits, caches, final_ln, readout = self.forward_pass(pixel_values)
        if self.forward_dtype != self.dtype:
            caches = [cache.to(self.dtype) for cache in caches]
            final_ln = final_ln.to(self.dtype) if final_ln is not None else None
            readout = readout.to(self.dtype)
        attn = torch.stack([cache.attn for cache in caches], dim=0)
        self.set_image_terms(caches, relevance)
        row_logits = logits
        if target_image is not None:
            caches = [cache.rows(target_image) for cache in caches]
            final_ln = final_ln.rows(target_image) if final_ln is not None else None
            readout = readout.rows(target_image)
            row_logits = logits.index_select(0, target_image)
        target = self.resolve_target(row_logits, target_class)
        one_hot = self.one_hot(target)
        attn_grad = torch.stack(self.attention_gradients(caches, final_ln, readout, one_hot), dim=0)
        attn_rel = torch.stack(self.attention_relevance(caches, readout, one_hot), dim=0) if relevance else None
        return logits, target, attn, attn_grad, attn_rel

    def classify(self, pixel_values):
        """(logits [B,C], attn [L,B,H,N,N]): the forward pass only."""
        logits, caches, _, _ = self.forward_pass(pixel_values)
        attn = torch.stack([cache.attn for cache in caches], dim=0)
        return logits, attn if attn.dtype == self.dtype else attn.to(self.dtype)
