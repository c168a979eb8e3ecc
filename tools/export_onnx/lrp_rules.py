"""Building blocks shared by the forward, gradient and LRP passes of vit_graph.py: head splitting,
LayerNorm with its backward, and the reference's LRP rules (docs/methods.md#lrp-rules) as batched ops."""
import torch

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


class LayerNormParts:
    """y = γ x̂ + β over the last dim, with the parts its backward needs (x̂, r = 1/sqrt(var + eps))."""

    def __init__(self, x, gamma, beta, eps):
        centred = x - x.mean(dim=-1, keepdim=True)
        self.inv_std = 1.0 / torch.sqrt((centred * centred).mean(dim=-1, keepdim=True) + eps)
        self.normalised = centred * self.inv_std
        self.gamma = gamma
        self.output = self.normalised * gamma + beta

    def to(self, dtype):
        """The same parts in `dtype` (the backward of a float64 forward run in a float32 pass)."""
        cast = LayerNormParts.__new__(LayerNormParts)
        cast.inv_std, cast.normalised = self.inv_std.to(dtype), self.normalised.to(dtype)
        cast.gamma, cast.output = self.gamma.to(dtype), self.output.to(dtype)
        return cast

    def rows(self, image_index):
        """The parts of the batch rows `image_index` (gamma has no batch axis)."""
        picked = LayerNormParts.__new__(LayerNormParts)
        picked.inv_std = self.inv_std.index_select(0, image_index)
        picked.normalised = self.normalised.index_select(0, image_index)
        picked.gamma, picked.output = self.gamma, self.output.index_select(0, image_index)
        return picked

    def backward(self, grad_output):
        g = grad_output * self.gamma
        return self.inv_std * (g - g.mean(dim=-1, keepdim=True)
                               - self.normalised * (g * self.normalised).mean(dim=-1, keepdim=True))


def linear(x, weight, bias):
    """x Wᵀ + b with W kept in PyTorch's [out, in] layout (stored once in the ONNX file)."""
    return linear_parts(x, weight, bias)[1]


def linear_parts(x, weight, bias):
    """(x Wᵀ, x Wᵀ + b): the product before the bias is what b.2's denominator reuses."""
    product = torch.matmul(x, weight.t())
    return product, (product + bias if bias is not None else product)


def _safe_den(b):
    den = b + SAFE_DIV_EPS
    return torch.where(den == 0, torch.full((), SAFE_DIV_EPS, dtype=den.dtype), den)


def safe_div(a, b):
    """The reference's safe_divide: a / (b + 1e-9) where b ≠ 0, else 0. Scalar constants, so the
    graph has no ConstantOfShape per division."""
    return torch.where(b != 0, a / _safe_den(b), torch.zeros((), dtype=a.dtype))


def safe_inverse(b):
    """1 / (b + 1e-9) where b ≠ 0, else 0, so that safe_div(a, b) = a · safe_inverse(b) to rounding.
    The LRP pass divides by forward activations that depend on the image only, not on the target:
    inverted once per image, they cost each target row one product instead of a guarded division."""
    return torch.where(b != 0, 1.0 / _safe_den(b), torch.zeros((), dtype=b.dtype))


def linear_inverse_denominator(x, weight, product=None):
    """safe_inverse of b.2's denominator, Σ_j of the x_j·w_ij ≥ 0 contributions (image only).

    x⁺W⁺ᵀ + x⁻W⁻ᵀ = ½ (x Wᵀ + |x| |W|ᵀ): with the forward pass's `product` x Wᵀ it costs one matrix
    product instead of two (the maps move by less than the float32 graph's own rounding: README,
    "Precision")."""
    if product is None:
        product = torch.matmul(x, weight.t())
    return safe_inverse(0.5 * (product + torch.matmul(x.abs(), weight.abs().t())))


def linear_relevance(x, weight, relevance, inverse_denominator=None):
    """b.2, alpha 1 / beta 0: only the x_j·w_ij ≥ 0 contributions, one shared denominator
    (`linear_inverse_denominator(x, weight)`, computed here when not given)."""
    inverse = linear_inverse_denominator(x, weight) if inverse_denominator is None else inverse_denominator
    s = relevance * inverse
    w_pos, w_neg = torch.clamp(weight, min=0), torch.clamp(weight, max=0)
    return torch.clamp(x, min=0) * torch.matmul(s, w_pos) + torch.clamp(x, max=0) * torch.matmul(s, w_neg)


def sum_per_image(t, dtype):
    return t.to(dtype).sum(dim=(1, 2), keepdim=True)


def add_relevance(u, v, relevance, sums_dtype, inverse_sum=None):
    """b.5 with the rescaling; σ_u, σ_v, ρ are per-image sums, taken in `sums_dtype`.
    inverse_sum: safe_inverse(u + v), computed here when not given."""
    s = relevance * (safe_inverse(u + v) if inverse_sum is None else inverse_sum)
    r_u, r_v = u * s, v * s
    sigma_u, sigma_v = sum_per_image(r_u, sums_dtype), sum_per_image(r_v, sums_dtype)
    rho = sum_per_image(relevance, sums_dtype)
    total = sigma_u.abs() + sigma_v.abs()
    factor_u = safe_div(safe_div(sigma_u.abs(), total) * rho, sigma_u).to(u.dtype)
    factor_v = safe_div(safe_div(sigma_v.abs(), total) * rho, sigma_v).to(u.dtype)
    return r_u * factor_u, r_v * factor_v


def clone_relevance(x, r1, r2, inverse_x=None):
    """b.6: the residual fork. inverse_x: safe_inverse(x), computed here when not given."""
    inverse = safe_inverse(x) if inverse_x is None else inverse_x
    return x * (r1 * inverse + r2 * inverse)


def pool_relevance(tokens, row_weights, pooled, relevance):
    """Token pooling and mean pooling, pooled = Σ_i w_i z_i over rows (w = e_0 for the class token,
    1/M on the M averaged rows): the reference's generic rule Z = f(X), S = R/Z, R_X = X ⊙ ∂⟨Z,S⟩/∂X
    gives R_{z_i} = w_i z_i ⊙ S. For w = e_0 this is b.7's IndexSelect rule."""
    return row_weights * tokens * safe_div(relevance, pooled).unsqueeze(1)
