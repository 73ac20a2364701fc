using System.Text.RegularExpressions;
using CheeseCave.Portal.Persistence;
using CheeseCave.Provisioning.Arm;
using CheeseCave.Provisioning.Errors;

namespace CheeseCave.Portal.Setups;

/// <summary>What went wrong and what to do, with the service's code and correlation id when Azure answered.</summary>
public sealed record SetupError(
    string Message,
    string WhatToDo,
    bool Denied = false,
    int? Status = null,
    string? ServiceCode = null,
    string? CorrelationId = null,
    bool IsTransient = false)
{
    public static SetupError NotAllowed(string action) =>
        new($"You are not allowed to {action}.", "Ask an administrator for the Operator role, or for a colleague with it to do this.", Denied: true);

    public static SetupError NotFound { get; } = new("This setup does not exist (any more).", "Go back to the list of setups and open or create one.");

    public static SetupError From(ProvisioningException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var whatToDo = exception switch
        {
            { IsTransient: true } => "This is usually temporary: wait a moment and try again.",
            { Status: 401 or 403 } => "Check that the portal's identity may manage this subscription and resource group.",
            { Status: 404 } => "Check the name and the resource group; the resource may have been deleted. Refresh the page to read it again.",
            { Status: 409 or 412 } => "Someone else changed it at the same time. Refresh the page and try again.",
            _ => "Check the values you entered and try again; if it keeps failing, give an administrator the code and correlation id.",
        };
        return new SetupError(exception.Message, whatToDo, false, exception.Status == 0 ? null : exception.Status,
            exception.ServiceErrorCode, exception.CorrelationId, exception.IsTransient);
    }
}

/// <summary>
/// An expected outcome: a value, or an error to show, or (when the installation wants four eyes) a request waiting
/// for approval instead of the change. Surprises still throw.
/// </summary>
public sealed record SetupResult<T>(T? Value, SetupError? Error, Approvals.ApprovalTicket? Pending = null)
{
    public bool Succeeded => Error is null && Pending is null;

    public bool IsPending => Pending is not null;
}

public static class SetupResult
{
    public static SetupResult<T> Ok<T>(T value) => new(value, null);

    public static SetupResult<T> Fail<T>(SetupError error) => new(default, error);

    public static SetupResult<T> Waiting<T>(Approvals.ApprovalTicket ticket) => new(default, null, ticket);
}

public sealed record SetupSummary(int Id, string Name, int CurrentStep, string? DpsName, string? IdScope, string UpdatedBy, DateTimeOffset UpdatedAt);

/// <summary>The ten steps of the cheese-cave setup, in order. <see cref="Slug"/> is the last URL segment.</summary>
public sealed record WizardStep(int Number, string Slug, string Title)
{
    public static IReadOnlyList<WizardStep> All { get; } =
    [
        new(1, "dps", "Provisioning service"),
        new(2, "hubs", "Linked IoT hubs"),
        new(3, "allocation", "Allocation policy"),
        new(4, "endpoints", "ID scope and endpoints"),
        new(5, "ca", "Certificate authority"),
        new(6, "upload", "Upload the CA"),
        new(7, "verify", "Proof of possession"),
        new(8, "enrollment", "Enrollment group"),
        new(9, "devices", "Device certificates"),
        new(10, "test", "Test provisioning"),
    ];

    /// <summary>The last step the portal has so far; a setup that is further along resumes here.</summary>
    public const int LastAvailable = 10;

    public static WizardStep? Find(string? slug) =>
        All.FirstOrDefault(s => string.Equals(s.Slug, slug, StringComparison.OrdinalIgnoreCase))
        ?? (int.TryParse(slug, out var number) ? All.FirstOrDefault(s => s.Number == number) : null);

    public static WizardStep ByNumber(int number) => All.FirstOrDefault(s => s.Number == number) ?? All[0];
}

public enum StepState
{
    /// <summary>Waits for an earlier step.</summary>
    Blocked,

    /// <summary>Can be done now.</summary>
    Ready,

    Done,

    /// <summary>Not in the portal yet.</summary>
    Unavailable,
}

/// <summary>A step's live status line, e.g. "cave-dps in eastus" or "1 hub linked".</summary>
public sealed record WizardStepStatus(WizardStep Step, StepState State, string Summary);

/// <summary>A setup as the wizard shows it: the stored record, the DPS as Azure reports it now, and each step's status.</summary>
public sealed record SetupView(
    int Id,
    string Name,
    int CurrentStep,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    string UpdatedBy,
    DateTimeOffset UpdatedAt,
    string? SubscriptionId,
    string? ResourceGroup,
    string? DpsName,
    string? Location,
    string? IdScope,
    string? ServiceHost,
    string? DeviceHost,
    DpsAllocationPolicy? AllocationPolicy,
    IReadOnlyList<LinkedIotHubInfo> LinkedHubs,
    ProvisioningServiceInfo? Dps,
    SetupError? LiveError,
    IReadOnlyList<WizardStepStatus> Steps,
    bool CanChange,
    IReadOnlyList<SetupCertificateView> Certificates,
    string? EnrollmentGroupId = null)
{
    public SetupCertificateView? Root => Certificates.FirstOrDefault(c => c.Kind == SetupCertificateKind.Root);

    public bool HasDps => DpsName is not null;

    public WizardStepStatus StatusOf(int number) => Steps.First(s => s.Step.Number == number);
}

/// <summary>A CA certificate of a setup as pages see it: public facts only, and whether the portal holds its key.</summary>
public sealed record SetupCertificateView(
    int Id,
    SetupCertificateKind Kind,
    string Subject,
    string ThumbprintSha1,
    string ThumbprintSha256,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    bool HasKey,
    string? DpsCertificateName,
    bool IsVerified,
    CheeseCave.Pki.CertificateDescription Description,
    string CreatedBy,
    DateTimeOffset CreatedAt);

/// <summary>A certificate file for the download endpoint: public material only.</summary>
public sealed record CertificateFile(string FileName, string ContentType, byte[] Content);

/// <summary>An IoT hub policy DPS can link with. Its keys stay on the server.</summary>
public sealed record HubPolicyChoice(string KeyName, IReadOnlyList<string> Rights);

/// <summary>How a wizard step describes a name check: a sentence, or null when the name is fine.</summary>
public sealed record NameCheck(bool IsValid, string? Problem);

public static partial class SetupNames
{
    /// <summary>DPS: 3-64 letters, digits and hyphens, not starting or ending with a hyphen (it becomes a host name).</summary>
    public static NameCheck CheckDpsName(string? name) => CheckHostLabel(name, "A DPS name", 3, 64);

    /// <summary>IoT hub: 3-50 letters, digits and hyphens, not starting or ending with a hyphen.</summary>
    public static NameCheck CheckHubName(string? name) => CheckHostLabel(name, "An IoT hub name", 3, 50);

    public static NameCheck CheckSetupName(string? name)
    {
        var trimmed = name?.Trim() ?? "";
        return trimmed.Length switch
        {
            0 => new(false, "Give the setup a name, e.g. \"Cave north\"."),
            > 100 => new(false, "Keep the name under 100 characters."),
            _ => new(true, null),
        };
    }

    private static NameCheck CheckHostLabel(string? name, string what, int min, int max)
    {
        if (string.IsNullOrEmpty(name))
        {
            return new(false, $"{what} is required.");
        }

        if (name.Length < min || name.Length > max)
        {
            return new(false, $"{what} has {min} to {max} characters; this one has {name.Length}.");
        }

        if (!HostLabel().IsMatch(name))
        {
            return new(false, $"{what} may contain only letters, digits and hyphens, and may not start or end with a hyphen.");
        }

        return new(true, null);
    }

    [GeneratedRegex("^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$")]
    private static partial Regex HostLabel();

    /// <summary>"cave-hub.azure-devices.net (weight 1)" lines, for the list of setups.</summary>
    public static string? SummarizeHubs(IReadOnlyList<LinkedIotHubInfo> hubs) =>
        hubs.Count == 0 ? null : string.Join(", ", hubs.Select(h => $"{h.HostName} (weight {h.AllocationWeight})"));

    internal static DpsAllocationPolicy? ParsePolicy(string? stored) =>
        Enum.TryParse<DpsAllocationPolicy>(stored, ignoreCase: true, out var policy) ? policy : null;

    internal static SetupSummary Summarize(DpsSetup setup) =>
        new(setup.Id, setup.Name, setup.CurrentStep, setup.DpsName, setup.IdScope, setup.UpdatedBy, setup.UpdatedAt);
}
