using System.Text.RegularExpressions;
using CheeseCave.Portal.Persistence;
using CheeseCave.Provisioning.Arm;
using CheeseCave.Provisioning.Errors;

namespace CheeseCave.Portal.Setups;

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
    PortalError? LiveError,
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
            _ when FreeText.HiddenCharacterProblem(trimmed, "name") is { } hidden => new(false, hidden),
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
