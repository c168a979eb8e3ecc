Dermxai.Server.DermxaiServerApp.Build(args).Run();
