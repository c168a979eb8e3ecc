"""An independent, per-image float64 implementation of what the export graph must compute.

Written in the reference code's own style and deliberately not sharing code with vit_graph.py:
the forward uses torch.nn.functional (Conv2d patch embedding, F.layer_norm, F.gelu, einsum), the
attention gradient comes from torch autograd, and every LRP rule is the reference's
"Z = f(X); S = R / Z; R_X = X ⊙ ∂⟨Z,S⟩/∂X" evaluated with torch.autograd.grad, one image at a time
(so the Add rule's "whole tensor" sums are per image by construction).
"""
import torch
import torch.nn.functional as F


def reference_safe_divide(a, b):
    den = b.clamp(min=1e-9) + b.clamp(max=1e-9)
    den = den + den.eq(0).type(den.type()) * 1e-9
    return a / den * b.ne(0).type(b.type())


def _grad_times_input(inputs, fn, relevance):
    """R_i = X_i ⊙ ∂⟨Z, R/Z⟩/∂X_i for Z = fn(*X) (RelPropSimple)."""
    inputs = [x.detach().requires_grad_(True) for x in inputs]
    z = fn(*inputs)
    grads = torch.autograd.grad(z, inputs, reference_safe_divide(relevance, z))
    return [x.detach() * g for x, g in zip(inputs, grads)]


def relprop_linear(x, weight, relevance):
    """layers_ours.Linear.relprop with alpha = 1 (beta = 0: the inhibitor term vanishes)."""
    pw, nw = weight.clamp(min=0), weight.clamp(max=0)
    px = x.clamp(min=0).detach().requires_grad_(True)
    nx = x.clamp(max=0).detach().requires_grad_(True)
    z1, z2 = F.linear(px, pw), F.linear(nx, nw)
    s = reference_safe_divide(relevance, z1 + z2)
    c1 = px * torch.autograd.grad(z1, px, s)[0]
    c2 = nx * torch.autograd.grad(z2, nx, s)[0]
    return (c1 + c2).detach()


def relprop_add(u, v, relevance):
    """layers_ours.Add.relprop: split, then rescale both branches with whole-tensor sums."""
    a, b = _grad_times_input([u, v], lambda x, y: x + y, relevance)
    a_sum, b_sum = a.sum(), b.sum()
    a_fact = reference_safe_divide(a_sum.abs(), a_sum.abs() + b_sum.abs()) * relevance.sum()
    b_fact = reference_safe_divide(b_sum.abs(), a_sum.abs() + b_sum.abs()) * relevance.sum()
    return a * reference_safe_divide(a_fact, a.sum()), b * reference_safe_divide(b_fact, b.sum())


def relprop_clone(x, relevances):
    x = x.detach().requires_grad_(True)
    zs = [x, x]
    ss = [reference_safe_divide(r, z) for r, z in zip(relevances, zs)]
    return (x * torch.autograd.grad(zs, x, ss)[0]).detach()


class ReferenceVit:
    """One image at a time: forward, autograd gradient of attention, LRP relevance (float64 unless
    asked otherwise: --verify also runs it in float32 to measure the rules' own conditioning).
    The new pieces' rules (docs/model-families.md): LayerScale, q/k norm, fc_norm and norm_pre are
    identities like LayerNorm; mean pooling and the class-token rows use the generic rule
    R_X = X ⊙ ∂⟨Z, R/Z⟩/∂X; the distilled readout is one Linear on [z_cls, z_dist]."""

    def __init__(self, config, state_dict, dtype=torch.float64):
        self.c = config
        self.dtype = dtype
        self.p = {k: v.detach().to(dtype) for k, v in state_dict.items()}

    def _ln(self, x, key):
        return F.layer_norm(x, (x.shape[-1],), self.p[f"{key}.weight"], self.p[f"{key}.bias"], self.c.ln_eps)

    def _act(self, x):
        return x * torch.sigmoid(1.702 * x) if self.c.act == "quick_gelu" else F.gelu(x)

    def _forward(self, image):
        c, p = self.c, self.p
        D, H = c.width, c.num_heads
        d = D // H
        x = F.conv2d(image.unsqueeze(0), p["patch_embed.proj.weight"], p.get("patch_embed.proj.bias"),
                     stride=c.patch_size).flatten(2).transpose(1, 2)
        prefix = [p[k] for k in ("cls_token", "dist_token", "reg_token") if k in p]
        if c.no_embed_class:
            x = torch.cat(prefix + [x + p["pos_embed"]], dim=1)
        else:
            x = torch.cat(prefix + [x], dim=1) + p["pos_embed"]
        if c.pre_norm:
            x = self._ln(x, "norm_pre")
        saved = []
        for i in range(c.depth):
            w = lambda name: p[f"blocks.{i}.{name}"]
            s = {"x_in": x}
            s["h1"] = self._ln(x, f"blocks.{i}.norm1")
            qkv = F.linear(s["h1"], w("attn.qkv.weight"), p.get(f"blocks.{i}.attn.qkv.bias"))
            q, k, v = qkv.reshape(1, -1, 3, H, d).permute(2, 0, 3, 1, 4)
            if c.qk_norm:
                q, k = self._ln(q, f"blocks.{i}.attn.q_norm"), self._ln(k, f"blocks.{i}.attn.k_norm")
            s["q"], s["k"], s["v"] = q, k, v
            attn = torch.softmax(torch.einsum("bhid,bhjd->bhij", q, k) * d ** -0.5, dim=-1)
            attn.retain_grad()
            s["attn"] = attn
            heads_out = torch.einsum("bhij,bhjd->bhid", attn, v)
            s["o"] = heads_out.permute(0, 2, 1, 3).reshape(1, -1, D)
            s["aout"] = F.linear(s["o"], w("attn.proj.weight"), w("attn.proj.bias"))
            if c.layer_scale:
                s["aout"] = s["aout"] * w("ls1.gamma")
            s["xmid"] = x + s["aout"]
            s["h2"] = self._ln(s["xmid"], f"blocks.{i}.norm2")
            s["gl"] = self._act(F.linear(s["h2"], w("mlp.fc1.weight"), w("mlp.fc1.bias")))
            s["f2"] = F.linear(s["gl"], w("mlp.fc2.weight"), w("mlp.fc2.bias"))
            if c.layer_scale:
                s["f2"] = s["f2"] * w("ls2.gamma")
            x = s["xmid"] + s["f2"]
            saved.append(s)
        z = self._ln(x, "norm") if c.final_norm else x
        if c.dist_token:
            logits = (F.linear(z[:, 0], p["head.weight"], p["head.bias"])
                      + F.linear(z[:, 1], p["head_dist.weight"], p["head_dist.bias"])) / 2
            return logits, saved, z, None
        pooled = z[:, 0] if c.global_pool == "token" else z[:, slice(*c.pooled_rows())].mean(dim=1)
        feature = self._ln(pooled, "fc_norm") if c.fc_norm else pooled
        return F.linear(feature, p["head.weight"], p["head.bias"]), saved, z, feature

    def _readout_relevance(self, z, feature, one_hot):
        c, p = self.c, self.p
        z = z.detach()
        row = lambda index: (lambda t: t.index_select(1, torch.tensor([index])).squeeze(1))
        if c.dist_token:
            pair = torch.cat([z[:, 0], z[:, 1]], dim=-1)
            r = relprop_linear(pair, torch.cat([p["head.weight"], p["head_dist.weight"]], dim=1), one_hot)
            return (_grad_times_input([z], row(0), r[:, :c.width])[0]
                    + _grad_times_input([z], row(1), r[:, c.width:])[0])
        r = relprop_linear(feature.detach(), p["head.weight"], one_hot)
        pool = row(0) if c.global_pool == "token" else (lambda t: t[:, slice(*c.pooled_rows())].mean(dim=1))
        return _grad_times_input([z], pool, r)[0]

    def _relevance(self, saved, z, feature, target):
        c, p = self.c, self.p
        one_hot = torch.zeros(1, c.num_classes, dtype=self.dtype)
        one_hot[0, target] = 1
        r = self._readout_relevance(z, feature, one_hot)
        rels = [None] * c.depth
        H, D = c.num_heads, c.width
        for i in reversed(range(c.depth)):
            s = {k: t.detach() for k, t in saved[i].items()}
            w = lambda name: p[f"blocks.{i}.{name}"]
            r_res, r_mlp = relprop_add(s["xmid"], s["f2"], r)
            r_mlp = relprop_linear(s["gl"], w("mlp.fc2.weight"), r_mlp)
            r_mlp = relprop_linear(s["h2"], w("mlp.fc1.weight"), r_mlp)
            r = relprop_clone(s["xmid"], [r_res, r_mlp])
            r_res, r_att = relprop_add(s["x_in"], s["aout"], r)
            cam = relprop_linear(s["o"], w("attn.proj.weight"), r_att)
            cam = cam.reshape(1, -1, H, D // H).permute(0, 2, 1, 3)
            cam_attn, cam_v = _grad_times_input(
                [s["attn"], s["v"]], lambda a, v: torch.einsum("bhij,bhjd->bhid", a, v), cam)
            cam_attn, cam_v = cam_attn / 2, cam_v / 2
            rels[i] = cam_attn[0]
            cam_q, cam_k = _grad_times_input(
                [s["q"], s["k"]], lambda q, k: torch.einsum("bhid,bhjd->bhij", q, k), cam_attn)
            cam_q, cam_k = cam_q / 2, cam_k / 2
            cam_qkv = torch.stack([cam_q, cam_k, cam_v]).permute(1, 3, 0, 2, 4).reshape(1, -1, 3 * D)
            r_h1 = relprop_linear(s["h1"], w("attn.qkv.weight"), cam_qkv)
            r = relprop_clone(s["x_in"], [r_res, r_h1])
        return torch.stack(rels)

    def explain(self, image, requested_target):
        """image [3,S,S] -> dict of logits [C], target, attn/attn_grad/attn_rel [L,H,N,N]."""
        image = image.detach().to(self.dtype).requires_grad_(True)  # so autograd tracks attn
        with torch.enable_grad():
            logits, saved, z, feature = self._forward(image)
            target = int(logits.argmax()) if requested_target == -1 else int(requested_target)
            logits[0, target].backward(retain_graph=True)
            attn_grad = torch.stack([s["attn"].grad[0] for s in saved])
            attn_rel = self._relevance(saved, z, feature, target)
        return {"logits": logits[0].detach(), "target": target,
                "attn": torch.stack([s["attn"][0].detach() for s in saved]),
                "attn_grad": attn_grad, "attn_rel": attn_rel}
