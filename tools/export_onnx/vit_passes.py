"""The backward half of vit_graph.VitGraph: the hand-written gradient to the attention maps
(docs/methods.md#gradient-graph), the reference's LRP pass (#propagation-order) and the terms both
read that depend on the image only.

Block i works on `kept_rows(i)` token rows after its attention: all of them except in the last block
of a class-token readout, whose other rows reach no logit. There the gradient and the relevance of
every other row are exactly zero, so they are not computed; the attention rows they would fill
come back as zeros (`pad_rows`), and the contract's tensors keep their shape."""
import torch
import torch.nn.functional as F

from lrp_rules import (add_relevance, clone_relevance, linear_inverse_denominator, linear_relevance,
                       merge_qkv, pool_relevance, safe_div, safe_inverse, split_heads)


def leading_rows(t, rows, tokens, dim):
    """The first `rows` of the `tokens` entries of `dim` (no op, so no ONNX node, when that is all)."""
    return t if rows == tokens else t.narrow(dim, 0, rows)


def pad_rows(t, rows, tokens, dim):
    """`t`, holding `rows` entries of `dim`, zero-padded to `tokens` (no op when rows = tokens)."""
    return t if rows == tokens else F.pad(t, [0, 0] * (t.dim() - 1 - dim) + [0, tokens - rows])


class BackwardPasses:
    """Mixed into VitGraph: reads self.config, self.blocks, the head weights, pool_rows and the
    scale buffers, and kept_rows(index)."""

    # -------------------------------------------------------------- gradient

    def readout_gradient(self, readout, one_hot):
        """∂ logit_t / ∂ z, [B, K, D] (z: the last block's kept rows after the final norm)."""
        if self.config.dist_token:
            d_cls = 0.5 * torch.matmul(one_hot, self.head_w)
            d_dist = 0.5 * torch.matmul(one_hot, self.head_dist_w)
            return torch.stack([d_cls, d_dist], dim=1)
        d_feature = torch.matmul(one_hot, self.head_w)
        d_pooled = readout.fc_ln.backward(d_feature) if readout.fc_ln is not None else d_feature
        return self.pool_rows * d_pooled.unsqueeze(1)

    def attention_gradients(self, caches, final_ln, readout, one_hot):
        """∂ logits[b, target[b]] / ∂ attn for every block, in block order."""
        c = self.config
        N, H, d = c.tokens, c.num_heads, c.head_dim
        dx = self.readout_gradient(readout, one_hot)
        if final_ln is not None:
            dx = final_ln.backward(dx)
        grads = []
        for index in reversed(range(len(self.blocks))):
            block, cache, K = self.blocks[index], caches[index], self.kept_rows(index)
            attn = leading_rows(cache.attn, K, N, 2)
            d_f2 = dx * block.ls2 if c.layer_scale else dx
            d_gl = torch.matmul(d_f2, block.fc2_w)
            d_h2 = torch.matmul(d_gl * cache.gelu_grad, block.fc1_w)
            d_xmid = dx + cache.ln2.backward(d_h2)
            d_aout = d_xmid * block.ls1 if c.layer_scale else d_xmid
            d_attn_v = split_heads(torch.matmul(d_aout, block.proj_w), K, H, d)
            d_attn = torch.matmul(d_attn_v, cache.v.transpose(-1, -2))
            grads.append(pad_rows(d_attn, K, N, 2))
            if index == 0:
                break
            d_v = torch.matmul(attn.transpose(-1, -2), d_attn_v)
            d_scores = attn * (d_attn - (d_attn * attn).sum(dim=-1, keepdim=True))
            d_q = pad_rows(torch.matmul(d_scores, cache.k) * self.scale_features, K, N, 2)
            d_k = torch.matmul(d_scores.transpose(-1, -2), leading_rows(cache.q, K, N, 2)) * self.scale_features
            if c.qk_norm:
                d_q, d_k = cache.qn.backward(d_q), cache.kn.backward(d_k)
            d_h1 = torch.matmul(merge_qkv(d_q, d_k, d_v, N, c.width), block.qkv_w)
            dx = pad_rows(d_xmid, K, N, 1) + cache.ln1.backward(d_h1)
        grads.reverse()
        return grads

    # -------------------------------------------------------------- relevance

    def readout_relevance(self, readout, one_hot):
        """Relevance of z, [B, K, D]. Head: b.2. Distilled: (head(z0) + head_dist(z1)) / 2 is one
        linear layer on [z0, z1], so b.2 on the concatenation, then b.7 for each row. Pooled: fc_norm
        is identity (as every LayerNorm), then pool_relevance (token or mean pooling)."""
        if self.config.dist_token:
            pair = readout.feature.reshape(-1, 2 * self.config.width)
            r = linear_relevance(pair, torch.cat([self.head_w, self.head_dist_w], dim=1), one_hot)
            return readout.feature * safe_div(r.reshape(-1, 2, self.config.width), readout.feature)
        r_feature = linear_relevance(readout.feature, self.head_w, one_hot)
        return pool_relevance(readout.tokens, self.pool_rows, readout.pooled, r_feature)

    def attention_relevance(self, caches, readout, one_hot):
        """The relevance reaching each block's attention (already halved, b.4), in block order.
        LayerScale and q/k norm are identities for relevance, like LayerNorm: the Add rule splits
        between the actual summands (after LayerScale), the QKᵀ rule between the normalised q, k."""
        c = self.config
        N, H, d = c.tokens, c.num_heads, c.head_dim
        relevance = self.readout_relevance(readout, one_hot)
        rels = []
        for index in reversed(range(len(self.blocks))):
            block, cache, K = self.blocks[index], caches[index], self.kept_rows(index)
            attn = leading_rows(cache.attn, K, N, 2)
            r_res, r_mlp = add_relevance(cache.xmid, cache.f2, relevance, self.sums_dtype, cache.inv_out)
            r = linear_relevance(cache.gl, block.fc2_w, r_mlp, cache.inv_z_fc2)
            r = linear_relevance(cache.ln2.output, block.fc1_w, r, cache.inv_z_fc1)
            relevance = clone_relevance(cache.xmid, r_res, r, cache.inv_xmid)
            r_res, r_att = add_relevance(leading_rows(cache.x_in, K, N, 1), cache.aout, relevance, self.sums_dtype,
                                         cache.inv_xmid)
            r_attn_v = split_heads(linear_relevance(cache.o, block.proj_w, r_att, cache.inv_z_proj), K, H, d)
            s = r_attn_v * cache.inv_attn_v
            r_attn = attn * torch.matmul(s, cache.v.transpose(-1, -2)) / 2
            rels.append(pad_rows(r_attn, K, N, 2))
            if index == 0:
                break
            r_v = cache.v * torch.matmul(attn.transpose(-1, -2), s) / 2
            s_qk = r_attn * cache.inv_qk
            q = leading_rows(cache.q, K, N, 2)
            r_q = pad_rows(q * torch.matmul(s_qk, cache.k) / 2, K, N, 2)
            r_k = cache.k * torch.matmul(s_qk.transpose(-1, -2), q) / 2
            r_h1 = linear_relevance(cache.ln1.output, block.qkv_w, merge_qkv(r_q, r_k, r_v, N, c.width),
                                    cache.inv_z_qkv)
            relevance = clone_relevance(cache.x_in, pad_rows(r_res, K, N, 1), r_h1, cache.inv_x_in)
        rels.reverse()
        return rels

    def set_image_terms(self, caches, relevance):
        """What the gradient and LRP passes read that depends on the image only (BlockCache), once per
        image. The LRP pass of block 0 stops at its attention: it needs no qkv, q·k or x_in terms. A
        block's output is the next block's input: one inverse serves as inv_out and inv_x_in."""
        for index, (block, cache) in enumerate(zip(self.blocks, caches)):
            cache.gelu_grad = self.act_derivative(cache.f1)
            if not relevance:
                continue
            cache.inv_xmid = safe_inverse(cache.xmid)
            cache.inv_z_fc2 = linear_inverse_denominator(cache.gl, block.fc2_w, cache.fc2_product)
            cache.inv_z_fc1 = linear_inverse_denominator(cache.ln2.output, block.fc1_w, cache.fc1_product)
            cache.inv_z_proj = linear_inverse_denominator(cache.o, block.proj_w, cache.proj_product)
            cache.inv_attn_v = safe_inverse(cache.attn_v)
            if index > 0:
                cache.inv_qk = safe_inverse(leading_rows(cache.qk, self.kept_rows(index), self.config.tokens, 2))
                cache.inv_z_qkv = linear_inverse_denominator(cache.ln1.output, block.qkv_w, cache.qkv_product)
                cache.inv_x_in = caches[index - 1].inv_out = safe_inverse(cache.x_in)
        if relevance:
            caches[-1].inv_out = safe_inverse(caches[-1].xmid + caches[-1].f2)
