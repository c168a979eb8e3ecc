"""The activations the gradient and LRP passes of vit_graph.py read back from the forward pass."""


class BlockCache:
    """Every activation of one block that the gradient and relevance passes read. `aout` and `f2`
    are the residual summands (after LayerScale); q and k are after q/k norm (qn, kn: its parts)."""
    __slots__ = ("x_in", "ln1", "qn", "kn", "q", "k", "v", "qk", "attn", "attn_v", "o", "aout", "xmid",
                 "ln2", "f1", "gl", "f2")

    def to(self, dtype):
        cast = BlockCache()
        for name in self.__slots__:
            value = getattr(self, name)
            setattr(cast, name, None if value is None else value.to(dtype))
        return cast


class Readout:
    """What the head reads from the last block's normalised tokens z."""
    __slots__ = ("tokens", "pooled", "fc_ln", "feature")

    def to(self, dtype):
        cast = Readout()
        for name in self.__slots__:
            value = getattr(self, name)
            setattr(cast, name, None if value is None else value.to(dtype))
        return cast
