using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;

namespace CheeseCave.Portal.Tests.Configuration;

/// <summary>CheeseCave:Database:Provider and ConnectionStrings:CheeseCave, checked once at start-up.</summary>
public sealed class DatabaseOptionsTests
{
    private static readonly PortalPaths Paths = new(Path.Combine(Path.GetTempPath(), "cheesecave-options-test"));

    private static PortalDatabase From(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build();
        var options = configuration.GetSection(CheeseCaveOptions.SectionName).Get<CheeseCaveOptions>() ?? new CheeseCaveOptions();
        return PortalDatabase.From(configuration, options, Paths);
    }

    [Fact]
    public void Without_settings_the_portal_keeps_sqlite_in_its_data_folder()
    {
        var database = From();
        Assert.Equal(DatabaseProvider.Sqlite, database.Provider);
        Assert.Equal(Paths.DatabaseFile, database.Describe());
    }

    [Fact]
    public void Postgresql_takes_the_cheesecave_connection_string_and_never_shows_its_password()
    {
        var database = From(("CheeseCave:Database:Provider", "postgresql"), ("ConnectionStrings:CheeseCave", "Host=db.example;Port=5433;Database=cave;Username=portal;Password=s3cret-pw"));
        Assert.Equal(DatabaseProvider.PostgreSql, database.Provider);
        Assert.Equal("PostgreSQL database 'cave' on db.example:5433", database.Describe());
        Assert.DoesNotContain("s3cret-pw", database.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_provider_is_refused_naming_the_choices()
    {
        var refused = Assert.Throws<PortalConfigurationException>(() => From(("CheeseCave:Database:Provider", "Oracle")));
        Assert.Equal("CheeseCave:Database:Provider is 'Oracle', which the portal does not know: set it to Sqlite (the default) or PostgreSQL.", refused.Message);
    }

    [Fact]
    public void Postgresql_without_a_connection_string_is_refused_saying_what_to_set()
    {
        var refused = Assert.Throws<PortalConfigurationException>(() => From(("CheeseCave:Database:Provider", "PostgreSQL")));
        Assert.StartsWith("CheeseCave:Database:Provider is PostgreSQL but ConnectionStrings:CheeseCave is empty: set it", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_connection_string_postgresql_cannot_read_or_without_a_server_is_refused()
    {
        var unreadable = Assert.Throws<PortalConfigurationException>(() => From(("CheeseCave:Database:Provider", "PostgreSQL"), ("ConnectionStrings:CheeseCave", "Server-Name=db;Secret=hunter2")));
        Assert.StartsWith("ConnectionStrings:CheeseCave is not a PostgreSQL connection string (", unreadable.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", unreadable.Message, StringComparison.Ordinal);

        var serverless = Assert.Throws<PortalConfigurationException>(() => From(("CheeseCave:Database:Provider", "PostgreSQL"), ("ConnectionStrings:CheeseCave", "Database=cave;Username=portal")));
        Assert.Equal("ConnectionStrings:CheeseCave names no server: add Host=<name or address> (and Port= when it is not 5432).", serverless.Message);
    }

    [Fact]
    public async Task The_portal_does_not_start_with_an_unknown_provider()
    {
        await using var portal = new PortalFactory();
        await using var misconfigured = portal.WithWebHostBuilder(b => b.UseSetting("CheeseCave:Database:Provider", "MySql"));
        var failure = Assert.ThrowsAny<Exception>(() => misconfigured.Services);
        for (Exception? current = failure; current is not null; current = current.InnerException)
        {
            if (current is PortalConfigurationException configuration)
            {
                Assert.Contains("'MySql'", configuration.Message, StringComparison.Ordinal);
                return;
            }
        }

        Assert.Fail($"Expected a PortalConfigurationException, got: {failure}");
    }
}
