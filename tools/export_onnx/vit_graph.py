"""The exported computation: a timm-compatible ViT forward, its hand-written backward to the
attention maps and the reference's LRP pass, all as plain batched tensor ops (docs/methods.md).

Batch is the leading dimension everywhere and no op mixes images: the per-image sums of the Add
rule reduce over every dimension except the batch.
"""
import math

import torch
from torch import nn

from erf64 import erf_cody

LAYERNORM_EPS = 1e-6
SAFE_DIV_EPS = 1e-9


def split_heads(t, tokens, heads, head_dim):
    """[B, N, H·d] -> [B, H, N, d]"""
    return t.reshape(-1, tokens, heads, head_dim).permute(0, 2, 1, 3)


def merge_heads(t, tokens, width):
    """[B, H, N, d] -> [B, N, H·d]"""
    return t.permute(0, 2, 1, 3).reshape(-1, tokens, width)


def split_qkv(qkv, tokens, heads, head_dim):
    """[B, N, 3·H·d] (feature c·D + h·d + j) -> three [B, H, N, d]"""
    parts = qkv.reshape(-1, tokens, 3, heads, head_dim).permute(2, 0, 3, 1, 4)
    return parts[0], parts[1], parts[2]


def merge_qkv(q, k, v, tokens, width):
    """Inverse of split_qkv."""
    return torch.stack([q, k, v], dim=0).permute(1, 3, 0, 2, 4).reshape(-1, tokens, 3 * width)


# ---------------------------------------------------------------- forward pieces

class LayerNormParts:
    """y = γ x̂ + β with the parts its backward needs (x̂ and r = 1/sqrt(var + eps))."""

    def __init__(self, x, gamma, beta):
        centred = x - x.mean(dim=-1, keepdim=True)
        self.inv_std = 1.0 / torch.sqrt((centred * centred).mean(dim=-1, keepdim=True) + LAYERNORM_EPS)
        self.normalised = centred * self.inv_std
        self.gamma = gamma
        self.output = self.normalised * gamma + beta

    def to(self, dtype):
        """The same parts in `dtype` (the backward of a float64 forward run in a float32 pass)."""
        cast = LayerNormParts.__new__(LayerNormParts)
        cast.inv_std, cast.normalised = self.inv_std.to(dtype), self.normalised.to(dtype)
        cast.gamma, cast.output = self.gamma.to(dtype), self.output.to(dtype)
        return cast

    def backward(self, grad_output):
        g = grad_output * self.gamma
        return self.inv_std * (g - g.mean(dim=-1, keepdim=True)
                               - self.normalised * (g * self.normalised).mean(dim=-1, keepdim=True))


class BlockCache:
    """Every activation of one block that the gradient and relevance passes read."""
    __slots__ = ("x_in", "ln1", "q", "k", "v", "qk", "attn", "attn_v", "o", "aout", "xmid", "ln2",
                 "f1", "gl", "f2")

    def to(self, dtype):
        cast = BlockCache()
        for name in self.__slots__:
            setattr(cast, name, getattr(self, name).to(dtype))
        return cast


def linear(x, weight, bias):
    """x Wᵀ + b with W kept in PyTorch's [out, in] layout (stored once in the ONNX file)."""
    y = torch.matmul(x, weight.t())
    return y + bias if bias is not None else y


# ---------------------------------------------------------------- LRP rules (docs/methods.md#lrp-rules)

def safe_div(a, b):
    """The reference's safe_divide: a / (b + 1e-9) where b ≠ 0, else 0."""
    den = b + SAFE_DIV_EPS
    den = torch.where(den == 0, torch.full_like(den, SAFE_DIV_EPS), den)
    return torch.where(b != 0, a / den, torch.zeros_like(den))


def linear_relevance(x, weight, relevance):
    """b.2, alpha 1 / beta 0: only the x_j·w_ij ≥ 0 contributions, one shared denominator."""
    w_pos, w_neg = torch.clamp(weight, min=0), torch.clamp(weight, max=0)
    x_pos, x_neg = torch.clamp(x, min=0), torch.clamp(x, max=0)
    z = torch.matmul(x_pos, w_pos.t()) + torch.matmul(x_neg, w_neg.t())
    s = safe_div(relevance, z)
    return x_pos * torch.matmul(s, w_pos) + x_neg * torch.matmul(s, w_neg)


def sum_per_image(t, dtype):
    return t.to(dtype).sum(dim=(1, 2), keepdim=True)


def add_relevance(u, v, relevance, sums_dtype):
    """b.5 with the rescaling; σ_u, σ_v, ρ are per-image sums, taken in `sums_dtype`."""
    s = safe_div(relevance, u + v)
    r_u, r_v = u * s, v * s
    sigma_u, sigma_v = sum_per_image(r_u, sums_dtype), sum_per_image(r_v, sums_dtype)
    rho = sum_per_image(relevance, sums_dtype)
    total = sigma_u.abs() + sigma_v.abs()
    factor_u = safe_div(safe_div(sigma_u.abs(), total) * rho, sigma_u).to(u.dtype)
    factor_v = safe_div(safe_div(sigma_v.abs(), total) * rho, sigma_v).to(u.dtype)
    return r_u * factor_u, r_v * factor_v


def clone_relevance(x, r1, r2):
    """b.6: the residual fork."""
    return x * (safe_div(r1, x) + safe_div(r2, x))


# ---------------------------------------------------------------- the model

class VitGraph(nn.Module):
    """Holds the weights (in the export dtype) and computes the contract's tensors.

    `dtype` is the graph's: inputs, outputs, weights, the gradient and the LRP pass. `forward_dtype`
    (default `dtype`) is the forward pass's: float64 in a float32 graph is the `mixed` precision of
    the export (weights and pixels Cast up, the forward computed in float64, every activation the
    two backward passes read Cast back to float32). The LRP rules amplify float32 rounding of the
    forward activations (by ~1e4 on the golden tiny224 model) but not rounding of their own
    arithmetic, so this is the part that has to be exact (README, "Precision")."""

    def __init__(self, config, state_dict, dtype=torch.float32, sums_dtype=None, forward_dtype=None):
        super().__init__()
        self.config = config
        self.dtype = dtype
        self.forward_dtype = forward_dtype or dtype
        self.sums_dtype = sums_dtype or dtype
        self.erf = erf_cody if dtype == torch.float64 else torch.erf
        self.forward_erf = erf_cody if self.forward_dtype == torch.float64 else torch.erf
        D = config.width

        def param(key, shape=None):
            t = state_dict[key].detach().to(dtype).clone()
            return nn.Parameter(t.reshape(shape) if shape else t, requires_grad=False)

        self.patch_weight = param("patch_embed.proj.weight", (D, -1))  # [D, 3p²], feature (c,u,v)
        self.patch_bias = param("patch_embed.proj.bias")
        self.cls_token = param("cls_token")
        self.pos_embed = param("pos_embed")
        self.blocks = nn.ModuleList()
        for i in range(config.depth):
            block = nn.Module()
            for name, key in (("norm1_w", "norm1.weight"), ("norm1_b", "norm1.bias"),
                              ("qkv_w", "attn.qkv.weight"), ("proj_w", "attn.proj.weight"),
                              ("proj_b", "attn.proj.bias"), ("norm2_w", "norm2.weight"),
                              ("norm2_b", "norm2.bias"), ("fc1_w", "mlp.fc1.weight"),
                              ("fc1_b", "mlp.fc1.bias"), ("fc2_w", "mlp.fc2.weight"),
                              ("fc2_b", "mlp.fc2.bias")):
                setattr(block, name, param(f"blocks.{i}.{key}"))
            block.qkv_b = param(f"blocks.{i}.attn.qkv.bias") if config.qkv_bias else None
            self.blocks.append(block)
        self.norm_w = param("norm.weight")
        self.norm_b = param("norm.bias")
        self.head_w = param("head.weight")
        self.head_b = param("head.bias")
        cls_row = torch.zeros(1, config.tokens, 1, dtype=dtype)
        cls_row[0, 0, 0] = 1
        self.register_buffer("cls_row_mask", cls_row)
        self.register_buffer("class_ids", torch.arange(config.num_classes, dtype=torch.int64))
        # The attention scale d^-0.5 as vectors, not a scalar: ONNX Runtime fuses MatMul with a
        # scalar Mul into FusedMatMul whose alpha is a float32 attribute, which costs a float64
        # graph ~1e-8 whenever d^-0.5 is not a float32 number (d = 32).
        self.register_buffer("scale_keys", torch.full((config.tokens,), config.head_dim ** -0.5, dtype=dtype))
        self.register_buffer("scale_features", torch.full((config.head_dim,), config.head_dim ** -0.5, dtype=dtype))

    # -------------------------------------------------------------- forward

    def fw(self, t):
        """A weight or input in the forward dtype (no op, so no ONNX node, when it is already)."""
        return t if t is None or t.dtype == self.forward_dtype else t.to(self.forward_dtype)

    def patch_tokens(self, pixel_values):
        """Conv2d with kernel = stride = p as reshape + MatMul (ORT CPU has no float64 Conv)."""
        c = self.config
        g, p = c.grid, c.patch_size
        patches = pixel_values.reshape(-1, 3, g, p, g, p).permute(0, 2, 4, 1, 3, 5)
        patches = patches.reshape(-1, g * g, 3 * p * p)
        return linear(patches, self.fw(self.patch_weight), self.fw(self.patch_bias))

    def gelu(self, x):
        return 0.5 * x * (1.0 + self.forward_erf(x * (1.0 / math.sqrt(2.0))))

    def gelu_derivative(self, x):
        cdf = 0.5 * (1.0 + self.erf(x * (1.0 / math.sqrt(2.0))))
        pdf = torch.exp(-0.5 * x * x) * (1.0 / math.sqrt(2.0 * math.pi))
        return cdf + x * pdf

    def block_forward(self, block, x_in):
        c = self.config
        N, H, d, D = c.tokens, c.num_heads, c.head_dim, c.width
        cache = BlockCache()
        cache.x_in = x_in
        fw = self.fw
        cache.ln1 = LayerNormParts(x_in, fw(block.norm1_w), fw(block.norm1_b))
        qkv = linear(cache.ln1.output, fw(block.qkv_w), fw(block.qkv_b))
        cache.q, cache.k, cache.v = split_qkv(qkv, N, H, d)
        cache.qk = torch.matmul(cache.q, cache.k.transpose(-1, -2))
        cache.attn = torch.softmax(cache.qk * fw(self.scale_keys), dim=-1)
        cache.attn_v = torch.matmul(cache.attn, cache.v)
        cache.o = merge_heads(cache.attn_v, N, D)
        cache.aout = linear(cache.o, fw(block.proj_w), fw(block.proj_b))
        cache.xmid = x_in + cache.aout
        cache.ln2 = LayerNormParts(cache.xmid, fw(block.norm2_w), fw(block.norm2_b))
        cache.f1 = linear(cache.ln2.output, fw(block.fc1_w), fw(block.fc1_b))
        cache.gl = self.gelu(cache.f1)
        cache.f2 = linear(cache.gl, fw(block.fc2_w), fw(block.fc2_b))
        return cache.xmid + cache.f2, cache

    def forward_pass(self, pixel_values):
        """Returns logits, the per-block caches, the final LayerNorm parts and the CLS feature, all in
        `forward_dtype` (logits in `dtype`)."""
        fw = self.fw
        tokens = self.patch_tokens(fw(pixel_values))
        cls = fw(self.cls_token).expand(tokens.shape[0], -1, -1)
        x = torch.cat([cls, tokens], dim=1) + fw(self.pos_embed)
        caches = []
        for block in self.blocks:
            x, cache = self.block_forward(block, x)
            caches.append(cache)
        final_ln = LayerNormParts(x, fw(self.norm_w), fw(self.norm_b))
        cls_feature = final_ln.output[:, 0]
        logits = linear(cls_feature, fw(self.head_w), fw(self.head_b))
        return (logits if logits.dtype == self.dtype else logits.to(self.dtype)), caches, final_ln, cls_feature

    def resolve_target(self, logits, target_class):
        """-1 (any negative) -> argmax; a class ≥ C is clamped to C-1. `target` reports the result."""
        predicted = torch.argmax(logits, dim=-1)
        last = torch.full_like(target_class, self.config.num_classes - 1)
        clamped = torch.where(target_class >= self.config.num_classes, last, target_class)
        return torch.where(target_class < 0, predicted, clamped)

    def one_hot(self, target):
        return (self.class_ids.unsqueeze(0) == target.unsqueeze(1)).to(self.dtype)

    # -------------------------------------------------------------- gradient (docs/methods.md#gradient-graph)

    def attention_gradients(self, caches, final_ln, one_hot):
        """∂ logits[b, target[b]] / ∂ attn for every block, in block order."""
        c = self.config
        N, H, d, D = c.tokens, c.num_heads, c.head_dim, c.width
        d_cls = torch.matmul(one_hot, self.head_w)                     # [B, D]
        dx = final_ln.backward(self.cls_row_mask * d_cls.unsqueeze(1))  # [B, N, D]
        grads = []
        for index in reversed(range(len(self.blocks))):
            block, cache = self.blocks[index], caches[index]
            d_gl = torch.matmul(dx, block.fc2_w)
            d_h2 = torch.matmul(d_gl * self.gelu_derivative(cache.f1), block.fc1_w)
            d_xmid = dx + cache.ln2.backward(d_h2)
            d_attn_v = split_heads(torch.matmul(d_xmid, block.proj_w), N, H, d)
            d_attn = torch.matmul(d_attn_v, cache.v.transpose(-1, -2))
            grads.append(d_attn)
            if index == 0:
                break
            d_v = torch.matmul(cache.attn.transpose(-1, -2), d_attn_v)
            d_scores = cache.attn * (d_attn - (d_attn * cache.attn).sum(dim=-1, keepdim=True))
            d_q = torch.matmul(d_scores, cache.k) * self.scale_features
            d_k = torch.matmul(d_scores.transpose(-1, -2), cache.q) * self.scale_features
            d_h1 = torch.matmul(merge_qkv(d_q, d_k, d_v, N, D), block.qkv_w)
            dx = d_xmid + cache.ln1.backward(d_h1)
        grads.reverse()
        return grads

    # -------------------------------------------------------------- relevance (docs/methods.md#propagation-order)

    def attention_relevance(self, caches, cls_feature, one_hot):
        """The relevance reaching each block's attention (already halved, b.4), in block order."""
        c = self.config
        N, H, d, D = c.tokens, c.num_heads, c.head_dim, c.width
        r_cls = linear_relevance(cls_feature, self.head_w, one_hot)
        relevance = self.cls_row_mask * (cls_feature * safe_div(r_cls, cls_feature)).unsqueeze(1)
        rels = []
        for index in reversed(range(len(self.blocks))):
            block, cache = self.blocks[index], caches[index]
            r_res, r_mlp = add_relevance(cache.xmid, cache.f2, relevance, self.sums_dtype)
            r = linear_relevance(cache.gl, block.fc2_w, r_mlp)
            r = linear_relevance(cache.ln2.output, block.fc1_w, r)
            relevance = clone_relevance(cache.xmid, r_res, r)
            r_res, r_att = add_relevance(cache.x_in, cache.aout, relevance, self.sums_dtype)
            r_attn_v = split_heads(linear_relevance(cache.o, block.proj_w, r_att), N, H, d)
            s = safe_div(r_attn_v, cache.attn_v)
            r_attn = cache.attn * torch.matmul(s, cache.v.transpose(-1, -2)) / 2
            rels.append(r_attn)
            if index == 0:
                break
            r_v = cache.v * torch.matmul(cache.attn.transpose(-1, -2), s) / 2
            s_qk = safe_div(r_attn, cache.qk)
            r_q = cache.q * torch.matmul(s_qk, cache.k) / 2
            r_k = cache.k * torch.matmul(s_qk.transpose(-1, -2), cache.q) / 2
            r_h1 = linear_relevance(cache.ln1.output, block.qkv_w, merge_qkv(r_q, r_k, r_v, N, D))
            relevance = clone_relevance(cache.x_in, r_res, r_h1)
        rels.reverse()
        return rels

    def explain(self, pixel_values, target_class):
        logits, caches, final_ln, cls_feature = self.forward_pass(pixel_values)
        if self.forward_dtype != self.dtype:
            caches = [cache.to(self.dtype) for cache in caches]
            final_ln, cls_feature = final_ln.to(self.dtype), cls_feature.to(self.dtype)
        target = self.resolve_target(logits, target_class)
        one_hot = self.one_hot(target)
        attn = torch.stack([cache.attn for cache in caches], dim=0)
        attn_grad = torch.stack(self.attention_gradients(caches, final_ln, one_hot), dim=0)
        attn_rel = torch.stack(self.attention_relevance(caches, cls_feature, one_hot), dim=0)
        return logits, target, attn, attn_grad, attn_rel


class FullGraph(nn.Module):
    """pixel_values, target_class -> logits, target, attn, attn_grad, attn_rel (contract v1)."""

    def __init__(self, vit):
        super().__init__()
        self.vit = vit

    def forward(self, pixel_values, target_class):
        return self.vit.explain(pixel_values, target_class)


class ForwardGraph(nn.Module):
    """pixel_values -> logits: plain classification without the backward and LRP work."""

    def __init__(self, vit):
        super().__init__()
        self.vit = vit

    def forward(self, pixel_values):
        return self.vit.forward_pass(pixel_values)[0]
