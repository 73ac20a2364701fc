namespace CheeseCave.Portal.Persistence;

/// <summary>
/// One CA rollover of a setup: which generation replaces which, how far it got and which step, if any, was running
/// when the portal stopped. The rollover's CAs and devices are ordinary <see cref="SetupCertificate"/> and
/// <see cref="SetupDevice"/> rows; this row only remembers the way from the old generation to the new one.
/// </summary>
public sealed class CaRollover
{
    public int Id { get; set; }

    public int SetupId { get; set; }

    public string StartedBy { get; set; } = "";

    public DateTimeOffset StartedAt { get; set; }

    public RolloverStage Stage { get; set; }

    public RolloverGroupMode GroupMode { get; set; }

    /// <summary>The root being replaced (the setup's root when the rollover started).</summary>
    public int OldRootId { get; set; }

    public int NewRootId { get; set; }

    /// <summary>The enrollment group that trusted the old CA when the rollover started.</summary>
    public string OldGroupId { get; set; } = "";

    /// <summary>The group created for the new CA (<see cref="RolloverGroupMode.NewGroup"/>), else null.</summary>
    public string? NewGroupId { get; set; }

    /// <summary>Device certificates re-issued under the new CA by this rollover.</summary>
    public int ReissuedCount { get; set; }

    /// <summary>
    /// The step under way, saved before it touches anything outside the database and cleared when it ends. Still set
    /// while no step runs in this process means the portal stopped in the middle of it.
    /// </summary>
    public string? RunningStep { get; set; }

    public DateTimeOffset? RunningSince { get; set; }

    /// <summary>The portal instance running <see cref="RunningStep"/>: while it is alive, other instances show the step as running.</summary>
    public string? RunningInstance { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>Set when the old CA was retired; a setup has at most one rollover without it.</summary>
    public DateTimeOffset? FinishedAt { get; set; }

    public string? FinishedBy { get; set; }

    /// <summary>Set (with <see cref="FinishedAt"/>) when the rollover was abandoned before the old CA was retired.</summary>
    public DateTimeOffset? CancelledAt { get; set; }

    public string? CancelledBy { get; set; }
}

/// <summary>How far a rollover got: each value is the last step done.</summary>
public enum RolloverStage
{
    /// <summary>The new CA exists in the portal.</summary>
    CaCreated,

    /// <summary>The new root is uploaded to the DPS (unverified).</summary>
    Uploaded,

    /// <summary>The DPS holds proof of possession of the new root.</summary>
    Verified,

    /// <summary>The enrollment group(s) trust both generations; new devices come from the new CA.</summary>
    Trusted,

    /// <summary>Every active device certificate of the old generation has a successor from the new CA.</summary>
    Reissued,

    /// <summary>The old CA is out of the group and the DPS, and retired in the portal.</summary>
    Retired,
}

/// <summary>How the enrollment trusts the new CA during the overlap.</summary>
public enum RolloverGroupMode
{
    /// <summary>The existing group gets the new CA as its secondary reference, then as its only one.</summary>
    SwapInGroup,

    /// <summary>A second group (same settings) trusts the new CA; the old group is deleted at retirement.</summary>
    NewGroup,
}
