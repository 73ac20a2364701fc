using System.Net;
using System.Text;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Inventory;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.Inventory;

[Collection(InventoryGroup.Name)]
public sealed class InventoryExportTests(InventoryWorld world)
{
    [Theory]
    [InlineData("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\"")]
    [InlineData("+1", "'+1")]
    [InlineData("-2", "'-2")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\tcell", "\"'\tcell\"")]
    [InlineData("\rcell", "\"'\rcell\"")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("plain", "plain")]
    public void A_cell_a_spreadsheet_would_run_as_a_formula_is_defused(string value, string expected) =>
        Assert.Equal(expected, InventoryCsv.Cell(value));

    [Fact]
    public async Task The_export_streams_the_same_filters_as_csv_defuses_formulas_and_is_audited()
    {
        // A setup name is free text: one that looks like a formula must reach a spreadsheet as text.
        await world.Factory.WithDbAsync(db => db.Setups.Where(s => s.Id == world.OtherId).ExecuteUpdateAsync(u => u.SetProperty(s => s.Name, "=cmd|'/c calc'!A1")));
        try
        {
            using var client = await world.Factory.SignedInClientAsync("inv-viewer");
            using var response = await client.GetAsync($"/certificates/export.csv?setup={world.OtherId}&kind=device&sort=name");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
            Assert.Equal("no-store", response.Headers.CacheControl!.ToString());
            var bytes = await response.Content.ReadAsByteArrayAsync();
            Assert.Equal([0xEF, 0xBB, 0xBF], bytes[..3]); // UTF-8 byte order mark for spreadsheets
            var lines = Encoding.UTF8.GetString(bytes[3..]).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);

            Assert.Equal(string.Join(',', InventoryCsv.Header), lines[0]);
            Assert.Equal(3, lines.Length); // other-001 and other-002 only
            var cells = lines[1].Split(',');
            Assert.Equal(("device", "'=cmd|'/c calc'!A1", "other-001", "CN=other-001"), (cells[0], cells[3], cells[4], cells[5]));
            Assert.Equal("portal key", cells[14]);

            var audit = await world.Factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().Where(a => a.Action == AuditActions.CertificatesExported).OrderBy(a => a.Id).LastAsync());
            Assert.Equal(("inv-viewer", AuditOutcomes.Succeeded), (audit.Actor, audit.Outcome));
            Assert.Equal($"2 row(s) of setup={world.OtherId}, kind=Device", audit.Detail);
        }
        finally
        {
            await world.Factory.WithDbAsync(db => db.Setups.Where(s => s.Id == world.OtherId).ExecuteUpdateAsync(u => u.SetProperty(s => s.Name, "invother")));
        }
    }

    [Theory]
    [InlineData("status=broken", "'status' is one of")]
    [InlineData("expiringWithin=0", "'expiringWithin' is a number of days")]
    [InlineData("kind=7", "'kind' is ca or device.")]
    public async Task A_bad_export_filter_gets_400_with_one_sentence(string query, string expected)
    {
        using var client = await world.Factory.SignedInClientAsync("inv-viewer");
        using var response = await client.GetAsync("/certificates/export.csv?" + query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith(expected, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rows_recorded_before_the_inventory_columns_are_backfilled_once_as_openssl_reads_them()
    {
        await world.Factory.WithDbAsync(async db =>
        {
            await db.SetupDevices.Where(d => d.SetupId == world.CaveId).ExecuteUpdateAsync(u => u.SetProperty(d => d.SerialNumber, "").SetProperty(d => d.Issuer, "").SetProperty(d => d.KeyType, ""));
            return await db.SetupCertificates.Where(c => c.SetupId == world.CaveId).ExecuteUpdateAsync(u => u.SetProperty(c => c.SerialNumber, "").SetProperty(c => c.Issuer, "").SetProperty(c => c.KeyType, ""));
        });

        var backfill = world.Factory.Services.GetRequiredService<InventoryBackfill>();
        var first = await backfill.BackfillAsync();
        var second = await backfill.BackfillAsync();

        Assert.Equal((2, 6), first);
        Assert.Equal((0, 0), second);
        var device = await world.Factory.WithDbAsync(db => db.SetupDevices.AsNoTracking().SingleAsync(d => d.RegistrationId == "inv-001"));
        using var openssl = new ExternalCa();
        File.WriteAllText(openssl.PathOf("device.pem"), device.CertificatePem);
        var printed = openssl.Run("x509", "-in", "device.pem", "-noout", "-serial", "-issuer", "-nameopt", "RFC2253");
        Assert.Contains($"serial={device.SerialNumber}", printed, StringComparison.Ordinal);
        Assert.Contains("issuer=CN=invcave Intermediate", printed, StringComparison.Ordinal);
        Assert.Equal(("CN=invcave Intermediate", "ECDSA P-256"), (device.Issuer, device.KeyType));
    }
}
