using Dermxai.Protocol.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Dermxai.Hardening.Tests.Fuzz;

/// <summary>
/// One generated request and what the contract (the proto's comments, docs/contract.md#errors) allows as
/// its outcome. <see cref="Allowed"/> is decided by the generator from how the case was made, never
/// from running the server.
/// </summary>
internal sealed record FuzzCase(int Id, string Category, IMessage Request, StatusCode[] Allowed)
{
    /// <summary>Words the status message must contain (e.g. the refused format's name).</summary>
    internal string? DetailMustContain { get; init; }

    /// <summary>For Explain cases of intact photos: the viewed size (EXIF orientation applied).</summary>
    internal (int Width, int Height)? ViewedSize { get; init; }
}

/// <summary>
/// The seeded hostile corpus (≥ 10,000 cases): damaged and exotic JPEG/PNG, declared-huge and real
/// decompression bombs, extreme aspect ratios, refused formats, random bytes, empty and oversize
/// messages, bad tensors, bad methods/targets/options. Same seed, same corpus.
/// </summary>
internal sealed class HostileCorpus
{
    internal const int Seed = 20260409;
    private static readonly StatusCode[] OkOrInvalid = [StatusCode.OK, StatusCode.InvalidArgument];
    private static readonly StatusCode[] AnyDefined = [StatusCode.OK, StatusCode.InvalidArgument, StatusCode.ResourceExhausted];
    private static readonly StatusCode[] Invalid = [StatusCode.InvalidArgument];
    private static readonly StatusCode[] TooLarge = [StatusCode.ResourceExhausted];
    private static readonly StatusCode[] Ok = [StatusCode.OK];

    private readonly Random _random = new(Seed);
    private readonly List<FuzzCase> _cases = [];
    private readonly ModelFacts _model;

    private HostileCorpus(ModelFacts model) => _model = model;

    /// <summary>What the generator may know about the served model (from GetModelInfo's documented fields).</summary>
    internal sealed record ModelFacts(IReadOnlyList<string> Labels, int ImageSize, int NumLayers, long MaxImageBytes, IReadOnlyList<string> Methods);

    internal static IReadOnlyList<FuzzCase> Generate(ModelFacts model)
    {
        var corpus = new HostileCorpus(model);
        corpus.AddIntactSeeds(repeats: 6);
        corpus.AddDamagedSeeds(truncated: 2200, flipped: 2600, smashed: 1000, lengthFields: 700, hostileExif: 300);
        corpus.AddDeclaredSizes();
        corpus.AddRefusedFormats(variantsEach: 30);
        corpus.AddRandomBytes(plain: 700, withMagic: 700);
        corpus.AddEmptyAndOversize();
        corpus.AddTensors(count: 700);
        corpus.AddExplainOptions(count: 1100);
        return corpus._cases;
    }

    private void Add(string category, IMessage request, StatusCode[] allowed, string? detail = null, (int, int)? viewed = null) =>
        _cases.Add(new FuzzCase(_cases.Count, category, request, allowed) { DetailMustContain = detail, ViewedSize = viewed });

    private static ClassifyRequest Classify(byte[] bytes) => new() { Image = new ImageInput { Encoded = ByteString.CopyFrom(bytes) } };

    private static ExplainRequest Explain(byte[] bytes, bool overlay) => new()
    {
        Image = new ImageInput { Encoded = ByteString.CopyFrom(bytes) },
        Outputs = new OutputOptions { IncludeOverlayPng = overlay, IncludeHeatmapPng = overlay },
    };

    /// <summary>Every flavour intact: must be served, with the EXIF-oriented size.</summary>
    private void AddIntactSeeds(int repeats)
    {
        foreach (var seed in SeedImages.Accepted)
        {
            bool large = seed.ViewedWidth * seed.ViewedHeight > 1_000_000;
            for (int i = 0; i < (large ? 1 : repeats); i++)
            {
                if (i % 2 == 0) Add($"intact:{seed.Name}", Explain(seed.Bytes, overlay: i == 0), Ok, viewed: (seed.ViewedWidth, seed.ViewedHeight));
                else Add($"intact:{seed.Name}", Classify(seed.Bytes), Ok);
            }
        }
    }

    private void AddDamagedSeeds(int truncated, int flipped, int smashed, int lengthFields, int hostileExif)
    {
        var small = SeedImages.Accepted.Where(s => s.Bytes.Length < 64 * 1024).ToArray();
        void Damage(string kind, int count, Func<byte[], Random, byte[]> mutate, StatusCode[] allowed)
        {
            for (int i = 0; i < count; i++)
            {
                var seed = small[_random.Next(small.Length)];
                Add($"{kind}:{Family(seed)}", Classify(mutate(seed.Bytes, _random)), allowed);
            }
        }
        // Cutting a file cannot enlarge its declared size: decoded (possibly partly grey) or refused as corrupt.
        Damage("truncated", truncated, Mutations.Truncate, OkOrInvalid);
        // Other damage may also rewrite the declared size beyond the caps.
        Damage("bitflip", flipped, Mutations.FlipBits, AnyDefined);
        Damage("smashed", smashed, Mutations.Smash, AnyDefined);
        Damage("length-field", lengthFields, Mutations.CorruptLengthField, AnyDefined);
        var jpegs = small.Where(s => Family(s) == "jpeg").ToArray();
        for (int i = 0; i < hostileExif; i++)
        {
            var seed = jpegs[_random.Next(jpegs.Length)];
            // A broken EXIF block is ignored (orientation 1), never fatal: the photo is still served.
            Add("hostile-exif:jpeg", Classify(Mutations.WithHostileExif(seed.Bytes, _random)), Ok);
        }
    }

    /// <summary>Headers claiming sizes beyond the caps (refused before decoding) and real bombs within them.</summary>
    private void AddDeclaredSizes()
    {
        var jpeg = SeedImages.Accepted.First(s => s.Name == "jpeg-420").Bytes;
        var png = SeedImages.Accepted.First(s => s.Name == "png-rgb8").Bytes;
        (int W, int H)[] beyondCaps = [(100_000, 100_000), (1, 100_000), (100_000, 1), (12_001, 8), (8, 12_001), (7_000, 7_000), (65_535, 65_535), (int.MaxValue, 1)];
        foreach (var (w, h) in beyondCaps)
        {
            if (w <= 65_535 && h <= 65_535) Add("declared-huge:jpeg", Classify(Mutations.WithDeclaredSize(jpeg, w, h)), TooLarge, detail: "pixels");
            Add("declared-huge:png", Classify(Mutations.WithDeclaredSize(png, w, h)), TooLarge, detail: "pixels");
            if (w <= 100_000) Add("declared-huge:png-payload", Classify(Mutations.ZeroPng(w, h, storedRows: 4)), TooLarge, detail: "pixels");
        }
        Add("declared-huge:png-1x100000", Classify(Mutations.ZeroPng(1, 100_000, storedRows: 100_000)), TooLarge, detail: "12000");
        // Within the caps a header that lies about its (small) payload is decoded or refused as corrupt.
        Add("declared-large:jpeg-5000x5000", Classify(Mutations.WithDeclaredSize(jpeg, 5_000, 5_000)), OkOrInvalid);
        Add("declared-large:png-5000x5000", Classify(Mutations.WithDeclaredSize(png, 5_000, 5_000)), OkOrInvalid);
        // Real decompression bombs within the caps: a few hundred KB inflating to 36 million pixels.
        Add("bomb-within-caps:png-6000x6000-grey", Classify(Mutations.ZeroPng(6_000, 6_000, storedRows: 6_000)), Ok);
        Add("bomb-within-caps:png-6000x6000-rgb", Explain(Mutations.ZeroPng(6_000, 6_000, storedRows: 6_000, colorType: 2), overlay: false), Ok, viewed: (6_000, 6_000));
    }

    private void AddRefusedFormats(int variantsEach)
    {
        foreach (var (format, bytes) in SeedImages.RefusedByName)
        {
            for (int i = 0; i < variantsEach; i++)
            {
                var tail = new byte[_random.Next(0, 2048)];
                _random.NextBytes(tail);
                byte[] variant = i == 0 ? bytes : [.. bytes, .. tail];
                Add($"refused-format:{format}", i % 5 == 0 ? Explain(variant, false) : Classify(variant), Invalid, detail: $"{format} images are not supported");
            }
        }
    }

    private void AddRandomBytes(int plain, int withMagic)
    {
        for (int i = 0; i < plain; i++)
        {
            var bytes = new byte[1 + _random.Next(4096)];
            _random.NextBytes(bytes);
            if (bytes.Length >= 2 && bytes[0] == 0xFF && bytes[1] == 0xD8) bytes[0] = 0; // keep "not an image" certain
            if (bytes[0] == 0x89) bytes[0] = 0;
            Add("random-bytes", Classify(bytes), Invalid);
        }
        byte[][] magics = [[0xFF, 0xD8, 0xFF], [0xFF, 0xD8, 0xFF, 0xE0, 0, 16, .. "JFIF\0"u8], [0x89, .. "PNG\r\n\x1a\n"u8], [0x89, .. "PNG\r\n\x1a\n"u8, 0, 0, 0, 13, .. "IHDR"u8]];
        for (int i = 0; i < withMagic; i++)
        {
            var tail = new byte[_random.Next(4096)];
            _random.NextBytes(tail);
            Add("magic+random", Classify([.. magics[_random.Next(magics.Length)], .. tail]), AnyDefined);
        }
    }

    private void AddEmptyAndOversize()
    {
        for (int i = 0; i < 10; i++)
        {
            Add("empty:classify", new ClassifyRequest(), Invalid);
            Add("empty:explain", new ExplainRequest(), Invalid);
            Add("empty:image", new ClassifyRequest { Image = new ImageInput() }, Invalid);
            Add("empty:bytes", Classify([]), Invalid);
            Add("empty:tensor", new ClassifyRequest { Image = new ImageInput { Tensor = new Tensor() } }, Invalid);
        }
        var oversize = new byte[_model.MaxImageBytes + 1];
        SeedImages.Accepted[0].Bytes.CopyTo(oversize, 0);
        Add("oversize:image-bytes", Classify(oversize), TooLarge, detail: "bytes");
        Add("oversize:image-bytes", Explain(oversize, overlay: true), TooLarge, detail: "bytes");
    }

    private void AddTensors(int count)
    {
        int s = _model.ImageSize, size = 3 * s * s;
        long[][] wrongShapes =
        [
            [], [3], [3, s], [1, 3, s, s], [3, s, s - 1], [3, 2 * s, 2 * s], [s, s, 3], [-3, s, s], [3, -s, -s],
            [long.MaxValue, 2, 2], [0, 0, 0], [3, (1L << 32) + s, s], [3, s, s, 1], [4, s, s],
        ];
        for (int i = 0; i < count; i++)
        {
            var tensor = new Tensor();
            float[] values;
            StatusCode[] allowed;
            string category;
            switch (i % 5)
            {
                case 0:
                    var shape = wrongShapes[_random.Next(wrongShapes.Length)];
                    tensor.Shape.Add(shape);
                    values = new float[_random.Next(3) switch { 0 => 0, 1 => size, _ => _random.Next(size * 2) }];
                    (allowed, category) = (Invalid, "tensor:wrong-shape");
                    break;
                case 1:
                    tensor.Shape.Add([3, s, s]);
                    values = Normal(size + (_random.Next(2) == 0 ? -1 - _random.Next(size) : 1 + _random.Next(100)));
                    (allowed, category) = (Invalid, "tensor:wrong-count");
                    break;
                case 2:
                    tensor.Shape.Add([3, s, s]);
                    values = Normal(size);
                    float[] poison = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, BitConverter.Int32BitsToSingle(0x7FC00001)];
                    for (int k = 1 + _random.Next(5); k > 0; k--) values[_random.Next(size)] = poison[_random.Next(poison.Length)];
                    (allowed, category) = (Invalid, "tensor:non-finite");
                    break;
                case 3:
                    tensor.Shape.Add([3, s, s]);
                    values = Normal(size);
                    bool huge = _random.Next(2) == 0;
                    // Finite but no normalised pixel (the model would overflow); or tiny and harmless.
                    float[] extremes = huge ? [float.MaxValue, float.MinValue, 1e30f, -1e30f, 1e4f] : [float.Epsilon, -float.Epsilon, -0f, 1e-38f];
                    for (int k = 1 + _random.Next(50); k > 0; k--) values[_random.Next(size)] = extremes[_random.Next(extremes.Length)];
                    (allowed, category) = huge ? (Invalid, "tensor:out-of-range") : (Ok, "tensor:tiny-finite");
                    break;
                default:
                    tensor.Shape.Add([3, s, s]);
                    values = Normal(size);
                    (allowed, category) = (Ok, "tensor:valid");
                    break;
            }
            tensor.Values.Add(values);
            var image = new ImageInput { Tensor = tensor };
            IMessage request = i % 3 == 0
                ? new ExplainRequest { Image = image, Outputs = new OutputOptions { IncludeOverlayPng = true } }
                : new ClassifyRequest { Image = image };
            Add(category, request, allowed, viewed: allowed == Ok && request is ExplainRequest ? (s, s) : null);
        }
    }

    private float[] Normal(int count)
    {
        var values = new float[Math.Max(0, count)];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(_random.NextDouble() * 4 - 2);
        return values;
    }

    /// <summary>Explain options drawn from valid and hostile values; the oracle is the proto's documented ranges.</summary>
    private void AddExplainOptions(int count)
    {
        var photo = SeedImages.Accepted.First(s => s.Name == "png-rgb8");
        var options = new ExplainOptionFuzzer(_random, _model);
        for (int i = 0; i < count; i++)
        {
            var (request, valid) = options.Next();
            request.Image = new ImageInput { Encoded = ByteString.CopyFrom(photo.Bytes) };
            Add(valid ? "options:valid" : "options:invalid", request, valid ? Ok : Invalid,
                viewed: valid ? (photo.ViewedWidth, photo.ViewedHeight) : null);
        }
    }

    private static string Family(SeedImage seed) => seed.Name.StartsWith("png", StringComparison.Ordinal) ? "png" : "jpeg";
}
