using Dermxai.TestSupport;
using Google.Protobuf;
using Proto = Dermxai.Protocol.V1;

namespace Dermxai.Tests;

/// <summary>The float64 golden models served over a real socket reproduce the reference maps (≤ 1e-6 relative).</summary>
public sealed class GoldenOverGrpcTests
{
    public static IEnumerable<TestCaseData> Cases() =>
        GoldenSet.Load("small").Cases.Select(c => new TestCaseData("small", c.Name).SetName($"small.{c.Name}"))
            .Concat(GoldenSet.Load("tiny224").Cases.Take(2).Select(c => new TestCaseData("tiny224", c.Name).SetName($"tiny224.{c.Name}")));

    [TestCaseSource(nameof(Cases))]
    public async Task ExplainReproducesEveryReferenceMap(string set, string caseName)
    {
        var server = await TestServers.Get($"{set}_f64");
        var golden = GoldenSet.Load(set).Cases.Single(c => c.Name == caseName);
        var png = ByteString.CopyFrom(golden.ImageBytes());

        foreach (var startLayer in new[] { 0, 1 })
        {
            var request = new Proto.ExplainRequest { Image = new Proto.ImageInput { Encoded = png }, StartLayer = startLayer };
            request.Methods.Add(golden.Maps.Keys.Select(k => MethodOf(k)).Distinct());
            request.Targets.Add(golden.RequestedTarget < 0
                ? new Proto.TargetSpec { Predicted = new() }
                : new Proto.TargetSpec { ClassIndex = golden.RequestedTarget });
            var response = await server.Client.ExplainAsync(request);

            foreach (var explanation in response.Explanations)
            {
                Assert.That(explanation.Target.Index, Is.EqualTo(golden.ExplainedTarget));
                string key = golden.Maps.ContainsKey(explanation.Method) ? explanation.Method : $"{explanation.Method}_s{startLayer}";
                if (!golden.Maps.ContainsKey(key)) continue;
                double error = Errors.Relative(explanation.Grid.Values.ToArray(), golden.ReferenceMap(key));
                TestContext.Out.WriteLine($"gRPC {set} {caseName} {key}: rel err {error:E2}");
                Assert.That(error, Is.LessThanOrEqualTo(1e-6), key);
            }
        }
    }

    private static string MethodOf(string key) =>
        System.Text.RegularExpressions.Regex.Replace(key, "_s[0-9]+$", "");
}
