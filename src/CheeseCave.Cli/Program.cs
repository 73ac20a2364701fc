using CheeseCave.Cli;

return CliApp.Run(args, Console.Out, Console.Error, Environment.CurrentDirectory, Environment.GetEnvironmentVariable, TimeProvider.System);
