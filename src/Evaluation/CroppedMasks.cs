using Dermxai.Engine;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Dermxai.Evaluation;

/// <summary>
/// The ground-truth masks of one photo on the model's S×S input: lesion, all artifacts, and one mask
/// per artifact kind (the artifact mask inside that artifact's box). Each is null when the data has none.
/// </summary>
internal sealed record CroppedMasks(bool[]? Lesion, bool[]? Artifact, IReadOnlyDictionary<string, bool[]> ArtifactByKind)
{
    /// <summary>Reads the item's mask files and maps them through the same resize + center crop as the photo.</summary>
    internal static CroppedMasks Load(EvaluationItem item, PreparedPhoto photo, int size)
    {
        var lesion = item.LesionMaskPath is null ? null : Crop(ReadMask(item.LesionMaskPath), photo.PhotoWidth, photo.PhotoHeight, photo.Crop, size);
        if (item.ArtifactMaskPath is null) return new CroppedMasks(lesion, null, new Dictionary<string, bool[]>());
        var artifactMask = ReadMask(item.ArtifactMaskPath);
        var byKind = new Dictionary<string, bool[]>();
        foreach (var region in item.Artifacts)
        {
            var inBox = Crop(InsideBox(artifactMask, region), photo.PhotoWidth, photo.PhotoHeight, photo.Crop, size);
            if (byKind.TryGetValue(region.Kind, out var existing))
                for (int i = 0; i < existing.Length; i++) existing[i] |= inBox[i];
            else byKind[region.Kind] = inBox;
        }
        return new CroppedMasks(lesion, Crop(artifactMask, photo.PhotoWidth, photo.PhotoHeight, photo.Crop, size), byKind);
    }

    /// <summary>A grey-level mask file; a pixel is set when its value is above 127.</summary>
    internal static MaskImage ReadMask(string path)
    {
        using var image = Image.Load<L8>(path);
        var set = new bool[image.Width * image.Height];
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++) set[y * image.Width + x] = row[x].PackedValue > 127;
            }
        });
        return new MaskImage(set, image.Width, image.Height);
    }

    /// <summary>
    /// Nearest-neighbour resize + center crop matching the photo's: crop pixel (x, y) takes the mask
    /// pixel under photo point (crop.X + (x + 0.5)·crop.Width/S, …), as PIL's NEAREST resize does
    /// (floor of the centre's source coordinate). A mask of another size than the photo is scaled to it.
    /// </summary>
    internal static bool[] Crop(MaskImage mask, int photoWidth, int photoHeight, CropRegion crop, int size)
    {
        double scaleX = (double)mask.Width / photoWidth, scaleY = (double)mask.Height / photoHeight;
        var columns = new int[size];
        for (int x = 0; x < size; x++)
            columns[x] = Math.Clamp((int)Math.Floor((crop.X + (x + 0.5) * crop.Width / size) * scaleX), 0, mask.Width - 1);
        var result = new bool[size * size];
        for (int y = 0; y < size; y++)
        {
            int sourceRow = Math.Clamp((int)Math.Floor((crop.Y + (y + 0.5) * crop.Height / size) * scaleY), 0, mask.Height - 1);
            var source = mask.Set.AsSpan(sourceRow * mask.Width, mask.Width);
            for (int x = 0; x < size; x++) result[y * size + x] = source[columns[x]];
        }
        return result;
    }

    private static MaskImage InsideBox(MaskImage mask, ArtifactRegion box)
    {
        var set = new bool[mask.Set.Length];
        // One pixel of slack: the generator truncates fractional box corners.
        int x0 = Math.Max(0, box.X0 - 1), y0 = Math.Max(0, box.Y0 - 1);
        int x1 = (int)Math.Min(mask.Width - 1L, box.X1 + 1L), y1 = (int)Math.Min(mask.Height - 1L, box.Y1 + 1L);
        for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
            set[y * mask.Width + x] = mask.Set[y * mask.Width + x];
        return new MaskImage(set, mask.Width, mask.Height);
    }
}

/// <summary>A binary mask at its file's resolution, row-major.</summary>
internal sealed record MaskImage(bool[] Set, int Width, int Height);
