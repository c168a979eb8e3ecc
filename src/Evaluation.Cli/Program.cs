using Dermxai.Evaluation.Cli;

return await EvaluateCli.RunAsync(args, EvaluateConsoles.FromProcess(), CancellationToken.None);
