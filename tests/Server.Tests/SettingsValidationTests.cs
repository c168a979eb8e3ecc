using System.Text.Json;
using Dermxai.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dermxai.Tests;

/// <summary>Settings have one home for their defaults (ServerOptions) and are checked before the server serves.</summary>
public sealed class SettingsValidationTests
{
    private static string[] Args(params string[] extra) =>
        ["--model", TestPaths.Model("small_f32"), "--urls", "http://127.0.0.1:0", "--metrics-url", "", "--Logging:LogLevel:Default=Warning", .. extra];

    [TestCase("--max-batch-size", "0", "MaxBatchSize")]
    [TestCase("--max-queue-size", "-1", "MaxQueueSize")]
    [TestCase("--intra-op-threads", "-2", "IntraOpThreads")]
    [TestCase("--arena-keep-rows", "-1", "ArenaKeepRows")]
    [TestCase("--Dermxai:MaxImageSide", "0", "MaxImageSide")]
    [TestCase("--Dermxai:ShutdownTimeoutSeconds", "-5", "ShutdownTimeoutSeconds")]
    [TestCase("--device", "tpu", "Dermxai:Device")]
    public async Task A_bad_setting_stops_the_start_naming_it(string option, string value, string name)
    {
        var app = DermxaiServerApp.Build(Args(option, value));
        var error = Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync())!;
        TestContext.Out.WriteLine(error.Message);
        Assert.That(error.Message, Does.Contain(name));
        await app.DisposeAsync();
    }

    [TestCase("gpu")]
    [TestCase(" CPU ")]
    public void Every_device_name_of_the_one_parser_is_accepted(string device) =>
        Assert.That(new ServerOptionsValidation().Validate(null, new ServerOptions { Device = device }).Succeeded);

    [Test]
    public async Task Without_overrides_the_bound_settings_are_the_options_class_defaults()
    {
        var app = DermxaiServerApp.Build(["--urls", "http://127.0.0.1:0"]);
        var bound = app.Services.GetRequiredService<IOptions<ServerOptions>>().Value;
        Assert.That(JsonSerializer.Serialize(bound), Is.EqualTo(JsonSerializer.Serialize(new ServerOptions())));
        await app.DisposeAsync();
    }
}
