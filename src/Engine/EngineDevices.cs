namespace Dermxai.Engine;

/// <summary>The one reading of a device name, shared by the server's settings and the evaluation tool.</summary>
public static class EngineDevices
{
    /// <summary>The accepted names, for help texts and messages.</summary>
    public const string Choices = "auto, cuda (or gpu), cpu";

    /// <summary>"auto", "cuda" or its alias "gpu", "cpu"; case and surrounding blanks ignored.</summary>
    public static bool TryParse(string? text, out EngineDevice device)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "auto": device = EngineDevice.Auto; return true;
            case "cuda" or "gpu": device = EngineDevice.Cuda; return true;
            case "cpu": device = EngineDevice.Cpu; return true;
            default: device = default; return false;
        }
    }

    /// <exception cref="FormatException">The name is none of <see cref="Choices"/>.</exception>
    public static EngineDevice Parse(string? text) =>
        TryParse(text, out var device) ? device : throw new FormatException($"Device '{text}' is not one of {Choices}.");
}
