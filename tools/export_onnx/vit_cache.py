"""The activations the gradient and LRP passes of vit_graph.py read back from the forward pass."""


def _cast(value, dtype):
    return None if value is None else value.to(dtype)


def _rows(value, image_index):
    """The batch rows `image_index` (one per target row) of a cached tensor or LayerNormParts."""
    if value is None:
        return None
    return value.rows(image_index) if hasattr(value, "rows") else value.index_select(0, image_index)


class _Cache:
    __slots__ = ()

    def __init__(self):
        for name in self.__slots__:
            setattr(self, name, None)

    def _map(self, fn):
        result = type(self)()
        for name in self.__slots__:
            setattr(result, name, fn(getattr(self, name)))
        return result

    def to(self, dtype):
        return self._map(lambda value: _cast(value, dtype))

    def rows(self, image_index):
        """The cache of the target rows: row r holds image image_index[r]'s activations."""
        return self._map(lambda value: _rows(value, image_index))


class BlockCache(_Cache):
    """Every activation of one block that the gradient and relevance passes read. `aout` and `f2`
    are the residual summands (after LayerScale); q and k are after q/k norm (qn, kn: its parts).
    The rest depend on the image only and are computed once per image, before the target rows are
    gathered: gelu_grad (the activation's derivative at f1) and, where the LRP pass is built, the
    safe inverses (lrp_rules.safe_inverse) of its denominators: inv_z_* of the linear layers' b.2 sums,
    inv_out, inv_xmid, inv_x_in of the residual stream, inv_attn_v and inv_qk of the attention.
    *_product are the linear layers' x·Wᵀ before bias and LayerScale, which the inv_z_* reuse."""
    __slots__ = ("x_in", "ln1", "qn", "kn", "q", "k", "v", "qk", "attn", "attn_v", "o", "aout", "xmid",
                 "ln2", "f1", "gl", "f2", "gelu_grad", "inv_z_qkv", "inv_z_proj", "inv_z_fc1", "inv_z_fc2",
                 "inv_out", "inv_xmid", "inv_x_in", "inv_attn_v", "inv_qk",
                 "qkv_product", "proj_product", "fc1_product", "fc2_product")


class Readout(_Cache):
    """What the head reads from the last block's normalised tokens z."""
    __slots__ = ("tokens", "pooled", "fc_ln", "feature")
