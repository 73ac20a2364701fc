using System.Globalization;
using System.Security.Claims;
using CheeseCave.Portal.Setups;
using CheeseCave.Portal.Setups.Inventory;
using CheeseCave.Portal.Setups.Overview;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.JSInterop;
using MudBlazor;

namespace CheeseCave.Portal.Components.Pages.Certificates;

/// <summary>
/// The certificate inventory: server-side paging, sorting and filtering (the query runs in SQLite through
/// <see cref="InventoryHandler"/>), DPS placement for the rows shown, and the CSV export link with the same filters.
/// Filters can come from the address (<c>?status=expiring&amp;within=90&amp;setup=3</c>), as the expiry panel links.
/// </summary>
public sealed partial class CertificatesPage
{
    private const string All = "";
    private const string Sha1 = "SHA-1 thumbprint";

    [Inject]
    private InventoryHandler Inventory { get; set; } = default!;

    [Inject]
    private SetupOverviewHandler Setups { get; set; } = default!;

    [Inject]
    private IJSRuntime JS { get; set; } = default!;

    [Inject]
    private ISnackbar Snackbar { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState>? AuthenticationState { get; set; }

    [SupplyParameterFromQuery(Name = "status")]
    public string? StatusQuery { get; set; }

    [SupplyParameterFromQuery(Name = "kind")]
    public string? KindQuery { get; set; }

    [SupplyParameterFromQuery(Name = "setup")]
    public int? SetupQuery { get; set; }

    [SupplyParameterFromQuery(Name = "within")]
    public int? WithinQuery { get; set; }

    [SupplyParameterFromQuery(Name = "q")]
    public string? TextQuery { get; set; }

    private MudTable<InventoryRow>? _table;
    private IReadOnlyList<SetupSummary> _setups = [];
    private string? _text;
    private string _setup = All;
    private string _kind = All;
    private string _status = All;
    private int? _within;
    private InventorySort _sort = InventorySort.NotAfter;
    private bool _descending;
    private string? _expanded;
    private bool _denied;
    private PortalError? _problem;
    private IReadOnlyList<string> _dpsProblems = [];

    private IReadOnlyList<string> SetupChoices => [All, .. _setups.Select(s => s.Id.ToString(CultureInfo.InvariantCulture))];

    private static IReadOnlyList<string> KindChoices { get; } = [All, "ca", "device"];

    private static IReadOnlyList<string> StatusChoices { get; } = [All, .. Enum.GetNames<CertificateStatus>().Select(n => n.ToLowerInvariant())];

    private InventoryFilter Filter => new()
    {
        Text = string.IsNullOrWhiteSpace(_text) ? null : _text.Trim(),
        SetupId = int.TryParse(_setup, NumberStyles.None, CultureInfo.InvariantCulture, out var setup) ? setup : null,
        Kind = _kind switch { "ca" => InventoryKind.Ca, "device" => InventoryKind.Device, _ => null },
        Status = Enum.TryParse<CertificateStatus>(_status, ignoreCase: true, out var status) && _status.Length > 0 ? status : null,
        ExpiringWithinDays = _within,
    };

    protected override async Task OnInitializedAsync()
    {
        _text = TextQuery;
        _setup = SetupQuery?.ToString(CultureInfo.InvariantCulture) ?? All;
        _kind = KindChoices.Contains(KindQuery?.ToLowerInvariant()) ? KindQuery!.ToLowerInvariant() : All;
        _status = StatusChoices.Contains(StatusQuery?.ToLowerInvariant()) ? StatusQuery!.ToLowerInvariant() : All;
        _within = WithinQuery is >= 1 and <= InventoryFilter.MaxExpiringWithinDays ? WithinQuery : null;
        try
        {
            _setups = await Setups.ListAsync(await UserAsync());
        }
        catch (UnauthorizedAccessException)
        {
            _denied = true;
        }
    }

    private async Task<ClaimsPrincipal> UserAsync() => AuthenticationState is null ? new ClaimsPrincipal() : (await AuthenticationState).User;

    private async Task<TableData<InventoryRow>> LoadAsync(TableState state, CancellationToken cancellationToken)
    {
        _sort = Enum.TryParse<InventorySort>(state.SortLabel, out var sort) ? sort : InventorySort.NotAfter;
        _descending = state.SortDirection == SortDirection.Descending;
        var query = new InventoryQuery(Filter, state.Page * state.PageSize, state.PageSize, _sort, _descending);
        var result = await Inventory.QueryAsync(await UserAsync(), query, cancellationToken);
        if (result.Value is not { } page)
        {
            _denied = result.Error?.Denied == true;
            _problem = result.Error;
            _dpsProblems = [];
            StateHasChanged();
            return new TableData<InventoryRow> { Items = [], TotalItems = 0 };
        }

        _problem = null;
        _dpsProblems = page.DpsProblems;
        StateHasChanged();
        return new TableData<InventoryRow> { Items = page.Items, TotalItems = page.TotalCount };
    }

    private async Task SetAsync(Action change)
    {
        change();
        _expanded = null;
        if (_table is not null)
        {
            await _table.ReloadServerData();
        }
    }

    private Task ClearAsync() => SetAsync(() => (_text, _setup, _kind, _status, _within) = (null, All, All, All, null));

    private static string Key(InventoryRow row) => $"{(row.Kind == InventoryKind.Ca ? "ca" : "device")}-{row.Id.ToString(CultureInfo.InvariantCulture)}";

    private void Toggle(InventoryRow row) => _expanded = _expanded == Key(row) ? null : Key(row);

    private string SetupText(string value) => value == All ? "All setups" : _setups.FirstOrDefault(s => s.Id.ToString(CultureInfo.InvariantCulture) == value)?.Name ?? value;

    private static string KindText(string value) => value switch { "ca" => "CAs", "device" => "Devices", _ => "CAs and devices" };

    private static string StatusText(string value) => value.Length == 0 ? "Any status" : char.ToUpperInvariant(value[0]) + value[1..];

    private static string Short(string hex) => hex.Length > 16 ? $"{hex[..8]}…{hex[^6..]}" : hex;

    private static string Stamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    private static string DaysText(InventoryRow row)
    {
        var days = row.DaysLeft(DateTimeOffset.UtcNow);
        return row.Status switch
        {
            CertificateStatus.Revoked or CertificateStatus.Superseded => row.StatusNote ?? "",
            _ when days < 0 => $"expired {-days} day{(days == -1 ? "" : "s")} ago",
            _ when days == 0 => "ends today",
            _ => $"{days} day{(days == 1 ? "" : "s")} left",
        };
    }

    private static string PlacementText(DpsPlacement placement)
    {
        var parts = new List<string>();
        if (placement.Substatus is { } substatus)
        {
            parts.Add(substatus);
        }
        else if (placement.Status is { } status)
        {
            parts.Add(status);
        }

        if (placement.LastRegisteredAt is { } at)
        {
            parts.Add("last registered " + at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture));
        }

        return string.Join(" · ", parts);
    }

    private RenderFragment Copyable(string value, string what) => builder =>
    {
        builder.OpenElement(0, "span");
        builder.AddAttribute(1, "class", "cc-mono-text cc-break");
        builder.AddContent(2, value);
        builder.CloseElement();
        builder.OpenComponent<MudIconButton>(3);
        builder.AddAttribute(4, nameof(MudIconButton.Icon), Icons.Material.Outlined.ContentCopy);
        builder.AddAttribute(5, nameof(MudIconButton.Size), Size.Small);
        builder.AddAttribute(6, "aria-label", $"Copy the {what}");
        builder.AddAttribute(7, nameof(MudIconButton.OnClick), EventCallback.Factory.Create<MouseEventArgs>(this, () => CopyAsync(value, what)));
        builder.CloseComponent();
    };

    private async Task CopyAsync(string value, string what)
    {
        var copied = await JS.InvokeAsync<bool>("cheeseCave.copyText", value);
        Snackbar.Add(copied ? $"{char.ToUpperInvariant(what[0])}{what[1..]} copied." : $"The browser did not allow copying. Select the {what} and copy it by hand.",
            copied ? Severity.Success : Severity.Warning);
    }
}
