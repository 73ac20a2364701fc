using System.Globalization;

namespace CheeseCave.Portal.Setups.Operations;

/// <summary>The wizard's long actions that run apart from the browser circuit.</summary>
public enum SetupOperationKind
{
    CreateDps,
    CreateHub,
    VerifyCa,
    IssueDevices,
    RolloverReissue,
}

/// <summary>
/// What one long operation is doing, or how it ended. <see cref="Subject"/> names what it works on (the DPS or hub
/// name); the success value is not here: only the user who started it can take it (<see cref="SetupOperations.TakeValue{T}"/>),
/// because a device batch carries a PFX password that is shown once.
/// </summary>
public sealed record SetupOperationStatus(
    int SetupId,
    SetupOperationKind Kind,
    string Subject,
    string StartedBy,
    DateTimeOffset StartedAt,
    string? Progress,
    DateTimeOffset? EndedAt,
    PortalError? Error,
    ApprovalTicket? Pending)
{
    public bool IsRunning => EndedAt is null;

    public bool Succeeded => EndedAt is not null && Error is null && Pending is null;

    public string Title => SetupOperationText.TitleOf(Kind);

    /// <summary>"started by ada 20 s ago".</summary>
    public string StartedByText(DateTimeOffset now) => $"started by {StartedBy} {SetupOperationText.Ago(now - StartedAt)}";
}

/// <summary>The answer to a start: the running operation, or why it was refused.</summary>
public sealed record SetupOperationStart(SetupOperationStatus? Status, PortalError? Refused)
{
    public bool Started => Refused is null;
}

/// <summary>How the long operations are named in the pages.</summary>
internal static class SetupOperationText
{
    internal static string TitleOf(SetupOperationKind kind) => kind switch
    {
        SetupOperationKind.CreateDps => "Creating the DPS",
        SetupOperationKind.CreateHub => "Creating the hub",
        SetupOperationKind.VerifyCa => "Proving possession",
        _ => "Issuing device certificates",
    };

    internal static string AlreadyRunning(SetupOperationKind kind) => kind switch
    {
        SetupOperationKind.CreateDps => "A DPS is already being created",
        SetupOperationKind.CreateHub => "An IoT hub is already being created",
        SetupOperationKind.VerifyCa => "Proof of possession is already running",
        _ => "Device certificates are already being issued",
    };

    internal static string Ago(TimeSpan elapsed) =>
        elapsed < TimeSpan.FromMinutes(2) ? $"{Math.Max(0, (int)elapsed.TotalSeconds).ToString(CultureInfo.InvariantCulture)} s ago"
        : elapsed < TimeSpan.FromHours(2) ? $"{((int)elapsed.TotalMinutes).ToString(CultureInfo.InvariantCulture)} min ago"
        : $"{((int)elapsed.TotalHours).ToString(CultureInfo.InvariantCulture)} h ago";
}
