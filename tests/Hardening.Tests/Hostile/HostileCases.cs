using System.Buffers.Binary;
using System.IO.Compression;
using Dermxai.Hardening.Tests.Fuzz;
using Dermxai.Protocol.V1;
using Google.Protobuf;
using Grpc.Core;
using SixLabors.ImageSharp.Formats.Jpeg;

namespace Dermxai.Hardening.Tests.Hostile;

/// <summary>One hostile call; it returns when the call has ended, however it ended.</summary>
internal sealed record HostileCase(string Label, Func<HostileTarget, Task> Call);

/// <summary>A class of hostile calls, the statuses the contract allows for them, and whether they arrive at once.</summary>
internal sealed record HostileClass(string Name, StatusCode[] Allowed, IReadOnlyList<HostileCase> Cases, bool AllAtOnce = false);

/// <summary>
/// The standing hostile suite's cases, built at test time from a fixed seed. Each class is what an
/// attacker (or a broken client) can send within the server's byte limits; the allowed statuses come
/// from how a case was made, never from running it.
/// </summary>
internal static class HostileCases
{
    internal const int Seed = 20261201;
    private static readonly TimeSpan CallLimit = TimeSpan.FromSeconds(60);
    private static readonly StatusCode[] OkOrInvalid = [StatusCode.OK, StatusCode.InvalidArgument];

    internal static IReadOnlyList<HostileClass> All(int classes)
    {
        var random = new Random(Seed);
        var photo = SeedImages.Accepted[0].Bytes;
        var png = SeedImages.Accepted.First(s => s.Name == "png-rgb8").Bytes;
        return
        [
            new("decompression-bomb", [StatusCode.OK],
            [
                Classify("png 6000x6000 grey, a few KB", Mutations.ZeroPng(6000, 6000, 6000)),
                Explain("png 6000x6000 RGB, overlays", Mutations.ZeroPng(6000, 6000, 6000, colorType: 2), r => r.Outputs = Overlays()),
            ]),
            new("gzip-bomb", [StatusCode.ResourceExhausted, StatusCode.InvalidArgument],
            [
                new("gzip 64 MB of zeros", t => t.SendGzipBombAsync(64 << 20)),
                new("gzip 24 MB of zeros", t => t.SendGzipBombAsync(24 << 20)),
            ]),
            new("lying-header", [StatusCode.OK, StatusCode.InvalidArgument, StatusCode.ResourceExhausted],
            [
                Classify("png says 5000x5000", Mutations.WithDeclaredSize(png, 5000, 5000)),
                Classify("jpeg says 4000x3000", Mutations.WithDeclaredSize(photo, 4000, 3000)),
                Classify("png says 100000x100000", Mutations.WithDeclaredSize(png, 100_000, 100_000)),
                Classify("jpeg says 65535x65535", Mutations.WithDeclaredSize(photo, 65_535, 65_535)),
            ]),
            new("refused-format", [StatusCode.InvalidArgument],
                SeedImages.RefusedByName.Select(f => Classify(f.Format, f.Bytes)).ToArray()),
            new("truncated", OkOrInvalid, Repeat(12, i => Classify($"cut {i}", Mutations.Truncate(i % 2 == 0 ? photo : png, random)))),
            new("bit-flip", OkOrInvalid, Repeat(12, i => Classify($"flip {i}", Mutations.FlipBits(i % 2 == 0 ? photo : png, random)))),
            new("exif-icc-junk", OkOrInvalid,
            [
                .. Repeat(6, i => Classify($"exif {i}", Mutations.WithHostileExif(photo, random))),
                .. Repeat(4, i => Classify($"icc {i}", WithJunkSegment(photo, 0xE2, "ICC_PROFILE\0", random))),
            ]),
            new("out-of-range-field", [StatusCode.InvalidArgument],
            [
                Explain("start_layer -1", photo, r => r.StartLayer = -1),
                Explain("start_layer int.MaxValue", photo, r => r.StartLayer = int.MaxValue),
                Explain("class_index 100000", photo, r => r.Targets.Add(new TargetSpec { ClassIndex = 100_000 })),
                Explain("top_k target -5", photo, r => r.Targets.Add(new TargetSpec { TopClasses = -5 })),
                Explain("overlay_alpha NaN", photo, r => r.Outputs = new OutputOptions { IncludeOverlayPng = true, OverlayAlpha = float.NaN }),
                Explain("faithfulness 7", photo, r => r.FaithfulnessFraction = 7),
                Explain("top_k -1", photo, r => r.TopK = -1),
                TensorCase("tensor shape [3, 2^31-1, 2]", [3, int.MaxValue, 2], 12),
            ]),
            new("one-megabyte-string", OkOrInvalid,
            [
                Explain("method id", photo, r => r.Methods.Add(Megabyte('m'))),
                Explain("class label", photo, r => r.Targets.Add(new TargetSpec { ClassLabel = Megabyte('l') })),
                Explain("colormap value out of the enum", photo, r => r.Outputs = new OutputOptions { IncludeOverlayPng = true, Colormap = (Colormap)int.MaxValue }),
                Explain("client tag", photo, r => r.ClientTag = Megabyte('t')),
            ]),
            new("ten-thousand-entries", [StatusCode.InvalidArgument],
            [
                Explain("methods (one id repeated)", photo, r => r.Methods.Add(Enumerable.Repeat("raw_attention", 10_000))),
                Explain("targets (class 0 repeated)", photo, r => r.Targets.Add(Enumerable.Repeat(new TargetSpec { ClassIndex = 0 }, 10_000))),
                Explain("targets (every kind)", photo, r => r.Targets.Add(Enumerable.Range(0, 10_000).Select(i => Target(i, classes)))),
                TensorCase("tensor shape", Enumerable.Repeat(3L, 10_000).ToArray(), 3),
            ]),
            // Each call queues several rows of the full graph: far more work than a second holds.
            new("deadline", [StatusCode.DeadlineExceeded, StatusCode.OK],
                Repeat(24, i => Explain($"heavy call {i}, 1 s", LargePhoto.Value, Heavy, TimeSpan.FromSeconds(1))), AllAtOnce: true),
            new("sixty-four-at-once", [StatusCode.OK, StatusCode.ResourceExhausted],
                Repeat(64, i => Explain($"call {i}", photo, r => r.Outputs = Overlays())), AllAtOnce: true),
        ];
    }

    /// <summary>The call the suite makes after every class: it must succeed.</summary>
    internal static HostileCase Control => Explain("control", SeedImages.Accepted[0].Bytes, r => r.Outputs = Overlays());

    /// <summary>A 2000×1500 JPEG with photo-like detail: enough decode and render work to outlive a short deadline.</summary>
    private static readonly Lazy<byte[]> LargePhoto = new(() =>
    {
        using var image = SeedImages.Photo(2000, 1500);
        return SeedImages.Encode(image, new JpegEncoder { Quality = 92 });
    });

    private static void Heavy(ExplainRequest request)
    {
        request.Methods.Add(["transformer_attribution", "generic_attention", "lrp_rollout", "attention_rollout"]);
        request.Targets.Add(new TargetSpec { TopClasses = 3 });
        request.Outputs = Overlays();
        request.FaithfulnessFraction = 0.2f;
    }

    private static OutputOptions Overlays() => new() { IncludeOverlayPng = true, IncludeHeatmapPng = true };

    private static string Megabyte(char c) => new(c, 1 << 20);

    private static TargetSpec Target(int i, int classes) => (i % 3) switch
    {
        0 => new TargetSpec { ClassIndex = i % classes },
        1 => new TargetSpec { TopClasses = 1 + i % classes },
        _ => new TargetSpec { Predicted = new TargetSpec.Types.Predicted() },
    };

    private static HostileCase[] Repeat(int count, Func<int, HostileCase> make) => Enumerable.Range(0, count).Select(make).ToArray();

    private static HostileCase Classify(string label, byte[] image) => new(label, t =>
        t.Client.ClassifyAsync(new ClassifyRequest { Image = Encoded(image) }, deadline: DateTime.UtcNow + CallLimit).ResponseAsync);

    private static HostileCase Explain(string label, byte[] image, Action<ExplainRequest> shape, TimeSpan? deadline = null) => new(label, t =>
    {
        var request = new ExplainRequest { Image = Encoded(image) };
        shape(request);
        return t.Client.ExplainAsync(request, deadline: DateTime.UtcNow + (deadline ?? CallLimit)).ResponseAsync;
    });

    private static HostileCase TensorCase(string label, long[] shape, int values) => new(label, t =>
    {
        var tensor = new Protocol.V1.Tensor { Shape = { shape }, Values = { new float[values] } };
        return t.Client.ClassifyAsync(new ClassifyRequest { Image = new ImageInput { Tensor = tensor } }, deadline: DateTime.UtcNow + CallLimit).ResponseAsync;
    });

    private static ImageInput Encoded(byte[] bytes) => new() { Encoded = ByteString.CopyFrom(bytes) };

    /// <summary>An APPn segment with the given identifier and random content, inserted after SOI.</summary>
    private static byte[] WithJunkSegment(byte[] jpeg, byte marker, string identifier, Random random)
    {
        var body = new byte[identifier.Length + 2 + random.Next(16, 4_000)];
        random.NextBytes(body);
        System.Text.Encoding.ASCII.GetBytes(identifier, body);
        body[identifier.Length] = 1;
        body[identifier.Length + 1] = 1;
        var segment = new byte[4 + body.Length];
        segment[0] = 0xFF;
        segment[1] = marker;
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), (ushort)(2 + body.Length));
        body.CopyTo(segment, 4);
        return [.. jpeg.AsSpan(0, 2), .. segment, .. jpeg.AsSpan(2)];
    }

    /// <summary>gzip of <paramref name="bytes"/> zero bytes: about a thousandth of its inflated size.</summary>
    internal static byte[] GzipOfZeros(int bytes)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var zeros = new byte[1 << 20];
            for (int written = 0; written < bytes; written += zeros.Length) gzip.Write(zeros, 0, Math.Min(zeros.Length, bytes - written));
        }
        return compressed.ToArray();
    }
}
