using System.ComponentModel;
using Dermxai.Client.Cli;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Dermxai.Client.Commands;

/// <summary>
/// Placeholder for the `evaluate` command (a later issue: offline faithfulness / localisation
/// evaluation, using Dermxai.Engine in-process). It is registered so the command name is reserved.
/// </summary>
[Description("(not implemented yet) Evaluate relevance maps against ground-truth masks.")]
internal sealed class EvaluateCommand(CliConsoles consoles) : Command<EmptyCommandSettings>
{
    public override int Execute(CommandContext context, EmptyCommandSettings settings, CancellationToken cancellation)
    {
        consoles.Error.WriteLine("evaluate is not implemented yet (planned in a later issue).");
        return CommandResults.Failed;
    }
}
