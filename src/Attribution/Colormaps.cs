namespace Dermxai.Attribution;

/// <summary>Colormaps for heatmaps: value in [0,1] → RGB.</summary>
public enum Colormap
{
    /// <summary>OpenCV's COLORMAP_JET (the reference overlay's colormap), byte-exact.</summary>
    Jet,

    /// <summary>Google's Turbo (Mikhailov 2019), piecewise-linear through every 8th entry of its 256-entry table.</summary>
    Turbo,

    /// <summary>matplotlib's viridis, piecewise-linear through its 10 equally spaced samples.</summary>
    Viridis,
}

/// <summary>256-entry RGB lookup tables, built once.</summary>
internal static class ColormapTables
{
    private static readonly byte[] jet = BuildJet();
    private static readonly byte[] turbo = BuildPiecewiseLinear(TurboAnchors, anchor => Math.Min(8 * anchor, 255));
    private static readonly byte[] viridis = BuildPiecewiseLinear(ViridisAnchors, anchor => anchor * 255f / 9);

    /// <summary>[256·3] interleaved RGB; entry k is the colour of uint8 level k.</summary>
    public static ReadOnlySpan<byte> Lut(Colormap map) => map switch
    {
        Colormap.Jet => jet,
        Colormap.Turbo => turbo,
        Colormap.Viridis => viridis,
        _ => throw new ArgumentException($"Unknown colormap {(int)map}.", nameof(map)),
    };

    /// <summary>
    /// OpenCV COLORMAP_JET (modules/imgproc/src/colormap.cpp, class Jet, OpenCV 4.x): a 256-entry base
    /// map of GNU Octave's jet, r = clamp(min(4x − 1.5, 4.5 − 4x)), g = clamp(min(4x − 0.5, 3.5 − 4x)),
    /// b = clamp(min(4x + 0.5, 2.5 − 4x)) at the float breakpoints x_k = k·(1/255), re-sampled by
    /// interp1 at the same breakpoints and converted with convertTo(CV_8U, 255): round-half-even of the
    /// float product. Most slope entries are exact half-integers before rounding, so the float steps are
    /// reproduced as OpenCV performs them.
    /// </summary>
    private static byte[] BuildJet()
    {
        const int n = 256;
        float step = 1f / (n - 1);
        var x = new float[n];
        for (int k = 0; k < n; k++)
        {
            x[k] = k * step;
        }
        var lut = new byte[n * 3];
        Func<double, double>[] channels =
        [
            v => Math.Min(4 * v - 1.5, 4.5 - 4 * v),
            v => Math.Min(4 * v - 0.5, 3.5 - 4 * v),
            v => Math.Min(4 * v + 0.5, 2.5 - 4 * v),
        ];
        for (int c = 0; c < 3; c++)
        {
            var y = new float[n];
            for (int k = 0; k < n; k++)
            {
                y[k] = (float)Math.Clamp(channels[c](k / 255.0), 0.0, 1.0);
            }
            for (int k = 0; k < n; k++)
            {
                float value = OpenCvInterp1(x, y, x[k]);
                lut[k * 3 + c] = (byte)Math.Clamp(MathF.Round(value * 255f, MidpointRounding.ToEven), 0f, 255f);
            }
        }
        return lut;
    }

    /// <summary>OpenCV's interp1_ for one query point (sorted breakpoints), in float as OpenCV computes it.</summary>
    private static float OpenCvInterp1(float[] x, float[] y, float query)
    {
        int low = 0, high = x.Length - 1;
        if (query < x[low])
        {
            high = 1;
        }
        if (query > x[high])
        {
            low = high - 1;
        }
        while (high - low > 1)
        {
            int mid = low + ((high - low) >> 1);
            if (query > x[mid])
            {
                low = mid;
            }
            else
            {
                high = mid;
            }
        }
        float numerator = (query - x[low]) * (y[high] - y[low]);
        return y[low] + numerator / (x[high] - x[low]);
    }

    /// <summary>Linear interpolation between RGB anchors; anchor a sits at level <paramref name="levelOf"/>(a).</summary>
    private static byte[] BuildPiecewiseLinear(ReadOnlySpan<float> anchors, Func<int, float> levelOf)
    {
        int last = anchors.Length / 3 - 1;
        var lut = new byte[256 * 3];
        int left = 0;
        for (int k = 0; k < 256; k++)
        {
            while (left < last - 1 && levelOf(left + 1) <= k)
            {
                left++;
            }
            float t = (k - levelOf(left)) / (levelOf(left + 1) - levelOf(left));
            for (int c = 0; c < 3; c++)
            {
                float value = anchors[left * 3 + c] * (1 - t) + anchors[(left + 1) * 3 + c] * t;
                lut[k * 3 + c] = (byte)Math.Clamp(MathF.Round(value * 255f), 0f, 255f);
            }
        }
        return lut;
    }

    /// <summary>
    /// Turbo, entries 0, 8, …, 248 and 255 of the 256-entry table published with the colormap
    /// (Google AI blog, Aug 2019; Apache-2.0; the same table OpenCV ships as COLORMAP_TURBO). The last
    /// segment is 7 entries long; linear interpolation stays within 2/255 of the full table.
    /// </summary>
    private static ReadOnlySpan<float> TurboAnchors =>
    [
        0.18995f, 0.07176f, 0.23217f, 0.22500f, 0.16354f, 0.45096f, 0.25107f, 0.25237f, 0.63374f,
        0.26816f, 0.33825f, 0.78050f, 0.27628f, 0.42118f, 0.89123f, 0.27543f, 0.50115f, 0.96594f,
        0.25862f, 0.57958f, 0.99876f, 0.21382f, 0.65886f, 0.97959f, 0.15844f, 0.73551f, 0.92305f,
        0.11167f, 0.80569f, 0.84525f, 0.09267f, 0.86554f, 0.76230f, 0.12014f, 0.91193f, 0.68660f,
        0.19659f, 0.94901f, 0.59466f, 0.30513f, 0.97697f, 0.48987f, 0.42778f, 0.99419f, 0.38575f,
        0.54658f, 0.99907f, 0.29581f, 0.64362f, 0.98999f, 0.23356f, 0.72596f, 0.96470f, 0.20640f,
        0.80473f, 0.92452f, 0.20459f, 0.87530f, 0.87267f, 0.21555f, 0.93301f, 0.81236f, 0.22667f,
        0.97323f, 0.74682f, 0.22536f, 0.99314f, 0.67408f, 0.20348f, 0.99593f, 0.58703f, 0.16899f,
        0.98360f, 0.49291f, 0.12849f, 0.95801f, 0.39958f, 0.08831f, 0.92105f, 0.31489f, 0.05475f,
        0.87422f, 0.24526f, 0.03297f, 0.81608f, 0.18462f, 0.01809f, 0.74617f, 0.13098f, 0.00851f,
        0.66449f, 0.08436f, 0.00424f, 0.57103f, 0.04474f, 0.00529f, 0.47960f, 0.01583f, 0.01055f,
    ];

    /// <summary>viridis at 0, 1/9, …, 1 (matplotlib / viridisLite viridis(10): #440154 … #FDE725).</summary>
    private static ReadOnlySpan<float> ViridisAnchors =>
    [
        0x44 / 255f, 0x01 / 255f, 0x54 / 255f, 0x48 / 255f, 0x28 / 255f, 0x78 / 255f,
        0x3E / 255f, 0x4A / 255f, 0x89 / 255f, 0x31 / 255f, 0x68 / 255f, 0x8E / 255f,
        0x26 / 255f, 0x82 / 255f, 0x8E / 255f, 0x1F / 255f, 0x9E / 255f, 0x89 / 255f,
        0x35 / 255f, 0xB7 / 255f, 0x79 / 255f, 0x6D / 255f, 0xCD / 255f, 0x59 / 255f,
        0xB4 / 255f, 0xDE / 255f, 0x2C / 255f, 0xFD / 255f, 0xE7 / 255f, 0x25 / 255f,
    ];
}
