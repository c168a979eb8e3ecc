namespace Dermxai.Evaluation;

/// <summary>
/// Deterministic orderings of float maps by value: one 64-bit key per entry (order-preserving bits of
/// the value in the high half, the index in the low half), so one primitive sort gives value order with
/// ties broken by lower index first.
/// </summary>
internal static class ValueOrder
{
    /// <summary>Indices of <paramref name="values"/> from the largest value to the smallest.</summary>
    internal static int[] Descending(ReadOnlySpan<float> values)
    {
        var keys = Keys(values, descending: true);
        var order = new int[values.Length];
        for (int i = 0; i < keys.Length; i++) order[i] = (int)(uint)keys[i];
        return order;
    }

    /// <summary>Indices from the smallest value to the largest (ties: lower index first), as topk(−map).</summary>
    internal static int[] Ascending(ReadOnlySpan<float> values)
    {
        var keys = Keys(values, descending: false);
        var order = new int[values.Length];
        for (int i = 0; i < keys.Length; i++) order[i] = (int)(uint)keys[i];
        return order;
    }

    /// <summary>Sorted keys; <see cref="SameValue"/> tells whether two keys hold equal values.</summary>
    internal static ulong[] Keys(ReadOnlySpan<float> values, bool descending = true)
    {
        var keys = new ulong[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            uint ordered = OrderedBits(values[i]);
            keys[i] = ((ulong)(descending ? ~ordered : ordered) << 32) | (uint)i;
        }
        Array.Sort(keys);
        return keys;
    }

    internal static bool SameValue(ulong a, ulong b) => (a >> 32) == (b >> 32);

    internal static int IndexOf(ulong key) => (int)(uint)key;

    /// <summary>Unsigned bits that sort like the float (−0 is taken as +0; NaN is not expected).</summary>
    private static uint OrderedBits(float value)
    {
        if (value == 0f) value = 0f;
        uint bits = BitConverter.SingleToUInt32Bits(value);
        return (bits & 0x8000_0000u) == 0 ? bits | 0x8000_0000u : ~bits;
    }
}
