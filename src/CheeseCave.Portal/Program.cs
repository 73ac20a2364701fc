using CheeseCave.Portal.Hosting;
using Microsoft.Extensions.Options;

var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    ContentRootPath = PortalContentRoot.Resolve(args),
});

builder.AddPortalServices();

var app = builder.Build();
app.MapPortalEndpoints();
try
{
    app.Run();
}
catch (OptionsValidationException ex)
{
    // A setting checked at start-up (e.g. CheeseCave:Approvals) is wrong: say which, in one line, and exit non-zero
    // instead of an unhandled-exception dump.
    Console.Error.WriteLine($"CheeseCave Portal did not start: {ex.Message}");
    return 1;
}

return 0;

public partial class Program { }
