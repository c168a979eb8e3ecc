using Dermxai.TestSupport;

namespace Dermxai.Tests;

/// <summary>The golden test models exported into tests/.generated/models by the repo's test script.</summary>
internal static class TestPaths
{
    /// <summary>tests/.generated/models/NAME.onnx.</summary>
    internal static string Model(string name) => RepositoryPaths.GeneratedModel(name);
}
