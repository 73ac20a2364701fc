using CheeseCave.Portal.Backup;
using CheeseCave.Portal.Hosting;
using CheeseCave.Portal.Hosting.Health;

if (HealthCheckCommand.IsRequested(args))
{
    return await HealthCheckCommand.RunAsync(args, Console.Out);
}

if (BackupCommand.IsRequested(args))
{
    return await BackupCommand.RunAsync(args, Console.Out);
}

var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    ContentRootPath = PortalContentRoot.Resolve(args),
});

builder.AddPortalServices();

var app = builder.Build();
app.MapPortalEndpoints();
await app.RunAsync();
return 0;

public partial class Program { }
