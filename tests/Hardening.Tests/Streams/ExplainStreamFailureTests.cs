using Dermxai.Hardening.Tests.Fuzz;
using Dermxai.Hardening.Tests.Support;
using Dermxai.Protocol.V1;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SixLabors.ImageSharp.Formats.Png;

namespace Dermxai.Hardening.Tests.Streams;

/// <summary>
/// Issue #17c: an exception the service does not expect (here a log sink that fails while one request's
/// audit line is written) answers that request with INTERNAL and the request id, and the stream goes on.
/// </summary>
[TestFixture]
public sealed class ExplainStreamFailureTests
{
    private const string PoisonedMethod = "raw_attention";
    private readonly CapturedLogs _logs = new();
    private TestServer _server = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _server = await TestServer.StartAsync([], beforeStart: app =>
    {
        var loggers = app.Services.GetRequiredService<ILoggerFactory>();
        loggers.AddProvider(new FailingSink($"methods {PoisonedMethod} "));
        loggers.AddProvider(_logs);
    });

    [OneTimeTearDown]
    public async Task StopAsync() => await _server.DisposeAsync();

    [Test]
    public async Task An_unexpected_failure_of_one_request_answers_it_with_its_status_and_the_stream_goes_on()
    {
        using var channel = _server.Channel();
        var photo = ByteString.CopyFrom(SeedImages.Encode(SeedImages.Photo(), new PngEncoder()));
        using var stream = new Protocol.V1.DermxaiService.DermxaiServiceClient(channel).ExplainStream(
            new Metadata { { "x-request-id", "stream-17c" } }, DateTime.UtcNow.AddSeconds(120));
        foreach (var (tag, method) in new[] { ("first", "transformer_attribution"), ("poisoned", PoisonedMethod), ("last", "attention_rollout") })
            await stream.RequestStream.WriteAsync(new ExplainStreamRequest { Request = new ExplainRequest { Image = new ImageInput { Encoded = photo }, Methods = { method }, ClientTag = tag } });
        await stream.RequestStream.CompleteAsync();
        var responses = new List<ExplainStreamResponse>();
        await foreach (var response in stream.ResponseStream.ReadAllAsync()) responses.Add(response);

        Assert.That(responses.Select(r => r.ClientTag), Is.EqualTo(new[] { "first", "poisoned", "last" }));
        Assert.That(stream.GetStatus().StatusCode, Is.EqualTo(StatusCode.OK));
        Assert.That(responses[0].Error, Is.Null);
        Assert.That(responses[2].Error, Is.Null);
        Assert.That(responses[2].Result.Explanations.Single().Method, Is.EqualTo("attention_rollout"));
        var error = responses[1].Error;
        Assert.That(error.Code, Is.EqualTo((int)StatusCode.Internal));
        Assert.That(error.Message, Does.Contain("stream-17c"));
        Assert.That(error.Message, Does.Not.Contain("sink").And.Not.Contain("Exception"), "no internal details leak");
        Assert.That(_logs.Lines.Where(l => l.Level == LogLevel.Error && l.Message.Contains("stream-17c", StringComparison.Ordinal))
            .Select(l => l.Exception), Has.Some.Contains("log sink failed"), "the failure is logged with the request id");
    }

    /// <summary>A log sink that fails (as a full disk would) on lines containing a marker.</summary>
    private sealed class FailingSink(string marker) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(marker);

        public void Dispose() { }

        private sealed class Logger(string marker) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (formatter(state, exception).Contains(marker, StringComparison.Ordinal)) throw new IOException("log sink failed: disk full");
            }
        }
    }
}
