using CheeseCave.Pki;
using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Audit;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Cluster;
using CheeseCave.Portal.Automation;
using CheeseCave.Portal.Components;
using CheeseCave.Portal.Components.Account;
using CheeseCave.Portal.Hosting.Health;
using CheeseCave.Portal.Hosting.Logging;
using CheeseCave.Portal.Hosting.Telemetry;
using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Security.Entra;
using CheeseCave.Portal.Setups.Allocation;
using CheeseCave.Portal.Setups.CertificateAuthority;
using CheeseCave.Portal.Setups.Devices;
using CheeseCave.Portal.Setups.Dps;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Setups.Expiry;
using CheeseCave.Portal.Setups.Hubs;
using CheeseCave.Portal.Setups.Inventory;
using CheeseCave.Portal.Setups.KeyExport;
using CheeseCave.Portal.Setups.Operations;
using CheeseCave.Portal.Setups.Overview;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Portal.Setups.ProofOfPossession;
using CheeseCave.Portal.Setups.TestRegistration;
using CheeseCave.Portal.Setups.Rollover;
using CheeseCave.Portal.Setups.Renewal;
using CheeseCave.Portal.Setups.Revocation;
using CheeseCave.Portal.Setups.Upload;
using CheeseCave.Portal.Setups.HubDevices;
using CheeseCave.Portal.Targets;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MudBlazor.Services;

namespace CheeseCave.Portal.Hosting;

/// <summary>The portal's service registrations and request pipeline, kept out of Program.cs.</summary>
public static class ServiceRegistration
{
    public static WebApplicationBuilder AddPortalServices(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // Serve package and project static web assets (MudBlazor's _content/, the top-level wwwroot/) from the
        // build output in every environment, not only Development. A no-op for a published app.
        builder.WebHost.UseStaticWebAssets();

        // Request-start and routing logs carry the full path, and setup and invitation links carry their token in it.
        builder.Logging.AddSecretSafeFilters();

        builder.Services.AddOptions<CheeseCaveOptions>()
            .Bind(builder.Configuration.GetSection(CheeseCaveOptions.SectionName));

        var settings = builder.Configuration.GetSection(CheeseCaveOptions.SectionName).Get<CheeseCaveOptions>() ?? new CheeseCaveOptions();
        var paths = new PortalPaths(settings.ResolveDataDirectory(builder.Environment.ContentRootPath));
        builder.Services.AddSingleton(paths);

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddHttpContextAccessor();

        AddPersistence(builder.Services, paths, PortalDatabase.From(builder.Configuration, settings, paths));
        builder.AddKeyCustody(paths); // the Data Protection key ring that encrypts CA keys (Hosting/KeyCustodyRegistration.cs)

        // An AzureAd section switches sign-in to Entra ID (Security/Entra, ENTRA-ID.md); local accounts otherwise.
        var entra = EntraSettings.IsConfigured(builder.Configuration);
        AddAccounts(builder.Services, entra);
        if (entra)
        {
            builder.Services.AddEntraIdAuthentication(builder.Configuration, settings, paths);
        }

        // Start-up order matters: the database first, then the first-run link, then the emulator.
        builder.Services.AddHostedService<PortalDatabaseInitializer>();
        builder.Services.AddCluster(builder.Configuration); // after the database: this instance's heartbeat row, the sweeps
        builder.Services.TryAddSingleton<ISetupTokenSink, LogSetupTokenSink>();
        if (!entra)
        {
            builder.Services.AddHostedService<FirstRunSetup>(); // with Entra ID nobody signs in with a setup link
        }
        builder.Services.AddSingleton<EmbeddedEmulator>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<EmbeddedEmulator>());
        AddSetups(builder.Services);
        builder.Services.AddAuditTrail();
        builder.Services.AddApprovals(builder.Configuration);
        builder.Services.AddAutomation(builder.Configuration);

        builder.Services.AddRazorComponents()
            .AddInteractiveServerComponents();
        builder.Services.AddScoped<Microsoft.AspNetCore.Components.Server.Circuits.CircuitHandler, CircuitCorrelation>();
        builder.Services.AddMudServices(mud =>
            mud.SnackbarConfiguration.PositionClass = MudBlazor.Defaults.Classes.Position.BottomRight); // clear of the app bar's sign-out
        builder.Services.AddPortalHealthChecks();
        builder.AddPortalTelemetry(); // off unless an OTLP endpoint is configured (docs/operations.md)
        builder.Services.AddReverseProxySupport(builder.Configuration);

        return builder;
    }

    private static void AddPersistence(IServiceCollection services, PortalPaths paths, PortalDatabase database)
    {
        // The factory serves services that must not share a circuit's long-lived context; Identity's stores use the
        // scoped context, made by the same factory so it is the configured provider's context type.
        services.AddSingleton(database);
        services.AddScoped(sp => sp.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext());
        services.AddDbContextFactory<PortalDbContext, PortalDbContextFactory>(options => PortalDbContextFactory.Configure(options, database));

        services.AddScoped<ICurrentActor, CurrentActor>();
        services.AddScoped<ProtectedKeyStore>();
        services.AddScoped<IKeyStore>(sp => sp.GetRequiredService<ProtectedKeyStore>());
        services.AddSingleton<AuditLog>();
    }

    /// <summary>The setup wizard (one slice per step on one pipeline), and the only place the portal wires up the Provisioning wire clients.</summary>
    private static void AddSetups(IServiceCollection services)
    {
        services.AddSingleton<ProvisioningConnectionFactory>();
        services.TryAddSingleton<ICallerAuthorization, LocalAccountAuthorization>(); // Entra ID registers its own first
        services.AddSetupPipeline()
            .AddSetupOverview()
            .AddDpsStep()
            .AddHubsStep()
            .AddAllocationStep()
            .AddCertificateAuthorityStep()
            .AddUploadStep()
            .AddProofOfPossessionStep()
            .AddEnrollmentStep()
            .AddDevicesStep()
            .AddTestRegistrationStep()
            .AddHubDevices()
            .AddKeyExport()
            .AddSetupOperations()
            .AddCaRollover()
            .AddRenewal()
            .AddRevocation()
            .AddInventory()
            .AddExpiryWatch();
    }

    private static void AddAccounts(IServiceCollection services, bool entra)
    {
        services.AddCascadingAuthenticationState();
        services.AddScoped<IdentityRedirectManager>();
        if (!entra)
        {
            services.AddSingleton(PortalSignIn.LocalAccounts);
            services.AddScoped<AuthenticationStateProvider, IdentityRevalidatingAuthenticationStateProvider>();
            services.AddAuthentication(options =>
                {
                    options.DefaultScheme = IdentityConstants.ApplicationScheme;
                    options.DefaultSignInScheme = IdentityConstants.ExternalScheme;
                })
                .AddIdentityCookies();
        }

        services.AddIdentityCore<PortalUser>(options =>
            {
                // Length over composition rules (NIST SP 800-63B): at least 12 characters, any characters.
                options.Password.RequiredLength = 12;
                options.Password.RequireDigit = false;
                options.Password.RequireLowercase = false;
                options.Password.RequireUppercase = false;
                options.Password.RequireNonAlphanumeric = false;
                options.Password.RequiredUniqueChars = 4;

                options.Lockout.MaxFailedAccessAttempts = 5;
                options.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(15);
                options.Lockout.AllowedForNewUsers = true;

                options.User.RequireUniqueEmail = false;
                options.SignIn.RequireConfirmedAccount = false;
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<PortalDbContext>()
            .AddSignInManager<PortalSignInManager>();

        services.ConfigureApplicationCookie(options =>
        {
            options.LoginPath = "/account/login";
            options.LogoutPath = AccountEndpoints.LogoutPath;
            options.AccessDeniedPath = "/account/access-denied";
            options.Cookie.Name = "CheeseCave.Session";
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.ExpireTimeSpan = TimeSpan.FromHours(8);
            options.SlidingExpiration = true;
            // Signing in on the sign-in page, the cookie handler itself redirects to ?ReturnUrl=: only to a safe local path.
            options.Events.OnRedirectToReturnUrl = context =>
            {
                context.Response.Redirect(IdentityRedirectManager.SafeLocalPath(context.RedirectUri));
                return Task.CompletedTask;
            };
        });

        // Every request re-checks the user's security stamp (and disabled flag) at most a minute after the last check.
        services.Configure<SecurityStampValidatorOptions>(options => options.ValidationInterval = IdentityRevalidatingAuthenticationStateProvider.Interval);

        services.AddAuthorization(PortalPolicies.Add);

        // The API's per-token policy (Automation); the sign-in limits are SignInRateLimiting's, shared through the database.
        services.AddRateLimiter(options => options.RejectionStatusCode = StatusCodes.Status429TooManyRequests);

        services.AddSingleton<AccountOnboarding>();
        services.AddSingleton<UserAdministration>();
    }

    public static WebApplication MapPortalEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        app.UseReverseProxySupport();
        app.UseMiddleware<SecurityHeadersMiddleware>();

        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler(new ExceptionHandlerOptions
            {
                ExceptionHandlingPath = "/error",
                CreateScopeForErrors = true,
                StatusCodeSelector = RequestRejections.StatusCodeFor, // a bad request stays a 400, not a 500
            });
            app.UseHsts();
        }

        app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);

        // The default binding is http://127.0.0.1:5080 (appsettings.json); redirect only when https is configured.
        if (ListensOnHttps(app.Configuration))
        {
            app.UseHttpsRedirection();
        }

        app.Use(RequestRejections.ShowErrorPagesAsGetAsync);
        app.Use(RequestRejections.RejectOversizedBodiesAsync);
        app.UseAuthentication();
        app.UseAuthorization();
        app.Use(SignInRateLimiting.CaptureUserNameAsync);
        app.Use(SignInRateLimiting.LimitAsync);
        app.UseRateLimiter();
        app.UseAntiforgery();

        app.MapPortalHealthChecks();

        // The emulator's CA certificate: public material that devices and SDKs must trust to reach the emulator,
        // fetched by scripts and devices that have no portal account. It holds no secret, so it stays public.
        app.MapGet("/emulator/trust-bundle.pem", (EmbeddedEmulator emulator) =>
            emulator.Endpoints is { } endpoints
                ? Results.File(endpoints.TrustBundle, "application/x-pem-file", "cheesecave-emulator-ca.pem")
                : Results.NotFound())
            .AllowAnonymous();

        app.MapAccountEndpoints();
        app.MapCertificateAuthorityEndpoints();
        app.MapProofOfPossessionEndpoints();
        app.MapDeviceEndpoints();
        app.MapKeyExportEndpoints();
        app.MapAuditEndpoints();
        app.MapAutomationEndpoints();
        app.MapCaRolloverEndpoints();
        app.MapInventoryEndpoints();

        app.MapStaticAssets().AllowAnonymous();
        app.MapRazorComponents<App>()
            .AddInteractiveServerRenderMode();

        return app;
    }

    private static bool ListensOnHttps(IConfiguration configuration) =>
        (configuration["urls"] ?? string.Empty).Contains("https://", StringComparison.OrdinalIgnoreCase)
        || !string.IsNullOrEmpty(configuration["https_port"])
        || !string.IsNullOrEmpty(configuration["https_ports"]);
}
