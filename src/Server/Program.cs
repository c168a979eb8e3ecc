return Dermxai.Server.ServerCommandLine.Run(args, Console.Out, Console.Error, a => Dermxai.Server.DermxaiServerApp.Build(a).Run());
