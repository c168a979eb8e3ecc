using System.Text.Json;
using Dermxai.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;

namespace Dermxai.Client.Tests.EndToEnd;

/// <summary>
/// What ghz needs, checked without ghz: the server answers reflection with our service and its
/// methods, and bench/ghz's JSON configs and binary messages are the same valid requests.
/// </summary>
[TestFixture]
public sealed class GhzReadinessTests
{
    private static string GhzFolder => Path.Combine(TestPaths.RepoRoot, "bench", "ghz");

    [Test]
    public async Task Reflection_lists_the_service_and_resolves_its_methods()
    {
        using var channel = GrpcChannel.ForAddress(LiveServer.Url);
        var client = new ServerReflection.ServerReflectionClient(channel);
        using var call = client.ServerReflectionInfo();

        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.ResponseStream.MoveNext(CancellationToken.None);
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.That(services, Does.Contain("dermxai.v1.DermxaiService").And.Contain("grpc.health.v1.Health"));

        await call.RequestStream.WriteAsync(new ServerReflectionRequest { FileContainingSymbol = "dermxai.v1.DermxaiService" });
        await call.ResponseStream.MoveNext(CancellationToken.None);
        var files = call.ResponseStream.Current.FileDescriptorResponse.FileDescriptorProto
            .Select(bytes => FileDescriptorProto.Parser.ParseFrom(bytes)).ToList();
        await call.RequestStream.CompleteAsync();
        var service = files.SelectMany(f => f.Service).Single(s => s.Name == "DermxaiService");
        Assert.That(service.Method.Select(m => m.Name), Is.SupersetOf(new[] { "Classify", "Explain", "ExplainStream", "GetModelInfo" }));
    }

    [TestCase("classify", typeof(ClassifyRequest))]
    [TestCase("explain", typeof(ExplainRequest))]
    public void The_json_config_and_the_binary_message_are_the_same_request(string rpc, Type requestType)
    {
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(GhzFolder, rpc + ".json")));
        var descriptor = (MessageDescriptor)requestType.GetProperty("Descriptor")!.GetValue(null)!;
        var fromJson = JsonParser.Default.Parse(config.RootElement.GetProperty("data").GetRawText(), descriptor);
        var fromBinary = descriptor.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(GhzFolder, rpc + ".bin")));

        Assert.That(fromJson, Is.EqualTo(fromBinary));
        var call = config.RootElement.GetProperty("call").GetString()!;
        Assert.That(call, Is.EqualTo($"dermxai.v1.DermxaiService.{descriptor.Name.Replace("Request", "")}"));
        Assert.That(Dermxai.Protocol.V1.DermxaiService.Descriptor.FindMethodByName(call.Split('.')[^1]).InputType, Is.EqualTo(descriptor));
        var image = (ImageInput)descriptor.FindFieldByName("image").Accessor.GetValue(fromBinary);
        Assert.That(image.Encoded.Length, Is.GreaterThan(0));
    }
}
