using Dermxai.Client.Cli;

return await DermxaiCli.RunAsync(args, CliConsoles.FromProcess(), CancellationToken.None);
