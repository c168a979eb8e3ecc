using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Memory;

namespace Dermxai.Engine;

/// <summary>
/// The one ImageSharp configuration of the engine: JPEG and PNG only, metadata ignored when decoding,
/// and a bounded allocator. ImageSharp's default allocator keeps a pool sized from the machine's memory
/// (gigabytes on a large host); with a small pool, the buffers of a huge photo (decode, overlays) are
/// unmanaged memory handed back to the system when the call is done instead of staying resident.
/// </summary>
internal static class ImagingMemory
{
    internal const int PoolMegabytes = 32;

    internal static Configuration Configuration { get; } = Create();

    internal static MemoryAllocator Allocator => Configuration.MemoryAllocator;

    private static Configuration Create()
    {
        var config = new Configuration(new JpegConfigurationModule(), new PngConfigurationModule())
        {
            MemoryAllocator = MemoryAllocator.Create(new MemoryAllocatorOptions { MaximumPoolSizeMegabytes = PoolMegabytes }),
        };
        config.ImageFormatsManager.SetDecoder(JpegFormat.Instance, new JpegDecoder { IgnoreMetadata = true });
        config.ImageFormatsManager.SetDecoder(PngFormat.Instance, new PngDecoder { IgnoreMetadata = true });
        return config;
    }
}
