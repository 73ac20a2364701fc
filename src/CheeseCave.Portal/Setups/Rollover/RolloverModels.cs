using CheeseCave.Pki;
using CheeseCave.Portal.Persistence;

namespace CheeseCave.Portal.Setups.Rollover;

/// <summary>The steps of a rollover after the start, in order; each moves the rollover one <see cref="RolloverStage"/> on.</summary>
public enum RolloverStep
{
    Upload,
    Prove,
    Trust,
    Reissue,
    Retire,
}

/// <summary>What the user chose when starting a rollover.</summary>
public sealed class RolloverStartForm
{
    public string RootSubject { get; set; } = "";

    /// <summary>An intermediate below the new root signs the devices (recommended when the old generation had one).</summary>
    public string? IntermediateSubject { get; set; }

    public ProfilePreset Preset { get; set; } = ProfilePreset.Recommended;

    public RolloverGroupMode GroupMode { get; set; } = RolloverGroupMode.SwapInGroup;

    /// <summary>The id of the group for the new CA (only with <see cref="RolloverGroupMode.NewGroup"/>).</summary>
    public string? NewGroupId { get; set; }
}

/// <summary>A setup's rollover as the page shows it; <see cref="Rollover"/> is null when none is open.</summary>
/// <param name="CanStart">The setup is ready for a rollover (a verified CA and an enrollment group) and none is open.</param>
/// <param name="WhyNot">Why a rollover cannot start now, in one sentence, when <paramref name="CanStart"/> is false.</param>
public sealed record RolloverOverview(int SetupId, string SetupName, bool CanStart, string? WhyNot, RolloverView? Rollover, RolloverView? LastFinished);

/// <param name="Interrupted">The sentence that explains a step cut off by a restart, or null.</param>
/// <param name="PendingDevices">Active device certificates still only from the old generation.</param>
public sealed record RolloverView(
    int Id,
    RolloverStage Stage,
    RolloverGroupMode GroupMode,
    string StartedBy,
    DateTimeOffset StartedAt,
    RolloverCaView OldCa,
    RolloverCaView NewCa,
    string OldGroupId,
    string? NewGroupId,
    int ReissuedCount,
    int PendingDevices,
    string? Interrupted,
    bool IsRunning,
    DateTimeOffset? FinishedAt,
    string? FinishedBy)
{
    /// <summary>Re-issued batches whose keys a restart took, not re-issued again yet.</summary>
    public IReadOnlyList<LostKeysBatch> LostBatches { get; init; } = [];

    /// <summary>When the rollover was abandoned (then <see cref="FinishedAt"/> is set too), and by whom.</summary>
    public DateTimeOffset? CancelledAt { get; init; }

    public string? CancelledBy { get; init; }

    /// <summary>The step to do next, or null when the rollover is finished.</summary>
    public RolloverStep? Next => Stage switch
    {
        RolloverStage.CaCreated => RolloverStep.Upload,
        RolloverStage.Uploaded => RolloverStep.Prove,
        RolloverStage.Verified => RolloverStep.Trust,
        RolloverStage.Trusted => RolloverStep.Reissue,
        RolloverStage.Reissued => RolloverStep.Retire,
        _ => null,
    };
}

/// <summary>One CA generation: its root and the CA that signs its devices.</summary>
/// <param name="HasKey">The portal holds the key of a CA of this generation that can sign devices (not so for a CA imported without it).</param>
public sealed record RolloverCaView(int RootId, string RootSubject, string RootSha1, string? DpsCertificateName, bool IsVerified, string? IssuerSubject, DateTimeOffset NotAfter, DateTimeOffset? RetiredAt,
    bool HasKey = true, bool RootHasKey = true, bool IsImported = false);

/// <summary>A re-issued batch whose keys were lost to a restart.</summary>
/// <param name="NeverHandedOut">The portal stopped before the re-issue's final save: nobody got the keys or the PFX password.</param>
/// <param name="Keyless">Its certificates still standing (not superseded, not revoked).</param>
public sealed record LostKeysBatch(string BatchId, int DeviceCount, DateTimeOffset LostAt, bool NeverHandedOut, int Keyless)
{
    /// <summary>The one sentence the page shows.</summary>
    public string Sentence => NeverHandedOut
        ? $"The keys of batch {BatchId} ({DeviceCount} re-issued device certificate(s)) were lost: the portal stopped before handing them out, so these certificates have no key anywhere."
        : $"The keys of batch {BatchId} ({DeviceCount} re-issued device certificate(s)) were lost when the portal restarted inside their download window; unless they were downloaded before, these certificates have no key anywhere.";
}

/// <summary>What a re-issue produced: batches (one ZIP each) and the PFX password, shown once.</summary>
public sealed record RolloverReissueView(int Count, IReadOnlyList<ReissuedBatch> Batches, string PfxPassword, DateTimeOffset KeysAvailableUntil);

public sealed record ReissuedBatch(string BatchId, int Count);

/// <summary>Names a step for people (progress lines, the page, approval titles).</summary>
public static class RolloverSteps
{
    public static string Title(RolloverStep step) => step switch
    {
        RolloverStep.Upload => "Upload the new CA to the DPS",
        RolloverStep.Prove => "Prove possession of the new CA",
        RolloverStep.Trust => "Make the enrollment trust the new CA",
        RolloverStep.Reissue => "Re-issue the devices under the new CA",
        _ => "Retire the old CA",
    };

    /// <summary>The stage a step needs before it can run.</summary>
    public static RolloverStage Before(RolloverStep step) => (RolloverStage)(int)step;
}
