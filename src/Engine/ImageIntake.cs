using System.Diagnostics;

namespace Dermxai.Engine;

/// <summary>
/// A request's image in, the model's input out: tensors and raw pixels are checked and preprocessed;
/// encoded photos are inspected, given room in the engine's pixel budget, decoded and preprocessed.
/// </summary>
internal sealed class ImageIntake(ImageLimits limits, ModelDescription model)
{
    private readonly ImageDecoder _decoder = new(limits);
    private readonly PixelBudget _pixels = new(limits.MaxPixelsInFlight);

    /// <summary>
    /// Decodes and preprocesses the image. An encoded photo first reserves its header's pixel count from
    /// the engine's pixel budget (the wait counts as queue time); the reservation lasts until the call ends.
    /// </summary>
    internal async Task<(PreparedImage, PixelBudget.Reservation?)> PrepareAsync(ImageSource image, StageTimings timings, CancellationToken cancel)
    {
        if (image.Tensor is not null)
            return (Timed(timings, () => Preprocessor.FromTensor(image.Tensor, image.TensorShape ?? [], model)), null);
        if (image.Rgb is not null)
        {
            if (image.Width <= 0 || image.Height <= 0 || image.Rgb.Length != image.Width * image.Height * 3)
                throw EngineException.Invalid(ErrorReasons.InvalidPixelBuffer, "image", "The RGB pixel buffer does not match its width and height.");
            return (Timed(timings, () => Preprocessor.Prepare(new DecodedImage(image.Rgb, image.Width, image.Height), model)), null);
        }
        var header = _decoder.Inspect(image.Encoded);
        long waitStart = Stopwatch.GetTimestamp();
        var reservation = await _pixels.ReserveAsync(header.Pixels, cancel).ConfigureAwait(false);
        timings.QueueMs += Stopwatch.GetElapsedTime(waitStart).TotalMilliseconds;
        try
        {
            var prepared = Timed(timings, () =>
            {
                var photo = _decoder.DecodePixels(image.Encoded, header, cancel);
                try
                {
                    cancel.ThrowIfCancellationRequested();
                    return Preprocessor.Prepare(photo, model);
                }
                catch
                {
                    photo.Dispose();
                    throw;
                }
            });
            return (prepared, reservation);
        }
        catch
        {
            reservation.Dispose();
            throw;
        }
    }

    private static PreparedImage Timed(StageTimings timings, Func<PreparedImage> prepare)
    {
        long start = Stopwatch.GetTimestamp();
        var prepared = prepare();
        timings.DecodeMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        return prepared;
    }
}
