using System.ComponentModel;
using Dermxai.Client.Connection;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Dermxai.Client.Cli;

/// <summary>Options of the commands that work through many image files (classify, explain).</summary>
internal class FileBatchSettings : ServerSettings
{
    [CommandArgument(0, "<PATHS>")]
    [Description("Image files (JPEG, PNG), folders (their JPEG and PNG files), dir/** (the folder and every folder below) and globs (dir/*.jpg, dir/**/*.png).")]
    public string[] Paths { get; set; } = [];

    [CommandOption("-r|--recursive")]
    [Description("Folders contribute the JPEG and PNG files of every folder below them too.")]
    public bool Recursive { get; set; }

    [CommandOption("--json <FILE>")]
    [Description("Also write the results as JSON to FILE (--json=- for standard output; the table then goes to standard error).")]
    public string? Json { get; set; }

    [CommandOption("--top-k <K>")]
    [Description("How many classes of the differential to return (0 = the server's default, 5).")]
    public int TopK { get; set; }

    [CommandOption("--parallel <N>")]
    [Description("Files in flight at once. Default: 4.")]
    public int Parallel { get; set; } = 4;

    public override ValidationResult Validate()
    {
        var server = base.Validate();
        if (!server.Successful) return server;
        if (Paths.Length == 0) return ValidationResult.Error("Give at least one image file, folder or glob.");
        if (TopK < 0) return ValidationResult.Error("--top-k must be >= 0.");
        if (Parallel < 1) return ValidationResult.Error("--parallel must be >= 1.");
        return ValidationResult.Success();
    }
}
