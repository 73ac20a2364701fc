using CheeseCave.Portal.Hosting;

var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    ContentRootPath = PortalContentRoot.Resolve(args),
});

builder.AddPortalServices();

var app = builder.Build();
app.MapPortalEndpoints();
app.Run();

public partial class Program { }
