using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;

namespace CheeseCave.Portal.Setups.Rollover;

/// <summary>The order of a rollover's steps, and the one sentence that explains a step asked for at the wrong time.</summary>
public static class RolloverRules
{
    /// <summary>The running-step mark of a cancellation.</summary>
    public const string CancelMark = "Cancel";

    /// <summary>Null when <paramref name="step"/> may run now; otherwise why not and what to do.</summary>
    public static PortalError? Check(CaRollover rollover, RolloverStep step)
    {
        ArgumentNullException.ThrowIfNull(rollover);
        if (Closed(rollover) is { } closed)
        {
            return closed;
        }

        var needed = RolloverSteps.Before(step);
        if (rollover.Stage > needed)
        {
            var next = (RolloverStep)(int)rollover.Stage;
            return new PortalError($"\"{RolloverSteps.Title(step)}\" is already done.", $"Go on with \"{RolloverSteps.Title(next)}\".");
        }

        if (rollover.Stage == needed)
        {
            return null;
        }

        if (step == RolloverStep.Retire)
        {
            return rollover.Stage switch
            {
                < RolloverStage.Verified => new PortalError("The new CA is not verified in the DPS yet, so retiring the old CA now would shut out every device.",
                    "Upload the new CA and prove possession of it first."),
                RolloverStage.Verified => new PortalError("The enrollment does not trust the new CA yet, so retiring the old CA now would shut out every device.",
                    "Make the enrollment trust the new CA first."),
                _ => new PortalError("Devices still have certificates from the old CA only, so retiring it now would shut them out.",
                    "Re-issue the devices under the new CA first."),
            };
        }

        var first = (RolloverStep)(int)rollover.Stage;
        return new PortalError($"\"{RolloverSteps.Title(step)}\" cannot run yet.", $"First: \"{RolloverSteps.Title(first)}\".");
    }

    /// <summary>Why nothing more can be done on a rollover that ended (retired or cancelled), or null while it is open.</summary>
    public static PortalError? Closed(CaRollover rollover)
    {
        ArgumentNullException.ThrowIfNull(rollover);
        if (rollover.CancelledAt is not null)
        {
            return new PortalError("This rollover was cancelled.", "Start a new rollover from the rollover page if the CA still needs replacing.");
        }

        return rollover.FinishedAt is not null || rollover.Stage == RolloverStage.Retired
            ? new PortalError("This rollover is finished: the old CA is already retired.", "Start a new rollover when this CA is due for replacement.")
            : null;
    }

    /// <summary>Null when the devices of a batch whose keys were lost may be re-issued again now (after the re-issue, before retiring).</summary>
    public static PortalError? CheckReissueAgain(CaRollover rollover, RolloverBatch? batch)
    {
        ArgumentNullException.ThrowIfNull(rollover);
        if (Closed(rollover) is { } closed)
        {
            return closed;
        }

        if (batch is null || batch.RolloverId != rollover.Id)
        {
            return new PortalError("This rollover has no such batch.", "Pick a batch from the rollover page.");
        }

        if (batch.ReplacedByBatchId is not null)
        {
            return new PortalError($"The devices of batch {batch.BatchId} were already re-issued again (batch {batch.ReplacedByBatchId}).", "Download that batch's keys instead.");
        }

        return batch.KeysLostAt is null
            ? new PortalError($"The keys of batch {batch.BatchId} were not lost.", "Download them from the batch while its download window is open.")
            : null;
    }

    /// <summary>Why a rollover cannot be cancelled now (the old CA is retired), or null.</summary>
    public static PortalError? CheckCancel(CaRollover rollover)
    {
        ArgumentNullException.ThrowIfNull(rollover);
        if (rollover.CancelledAt is not null)
        {
            return new PortalError("This rollover is already cancelled.", "Start a new rollover if the CA still needs replacing.");
        }

        return rollover.FinishedAt is not null || rollover.Stage == RolloverStage.Retired
            ? new PortalError("This rollover cannot be cancelled: the old CA is already retired and out of the DPS, so going back would shut out every device.",
                "Start a new rollover to move to another CA.")
            : null;
    }

    /// <summary>The sentence for a step that was cut off (null when none is, or it is running now in this process).</summary>
    public static string? Interrupted(CaRollover rollover, bool runningHere)
    {
        ArgumentNullException.ThrowIfNull(rollover);
        if (rollover.RunningStep is null || runningHere)
        {
            return null;
        }

        if (rollover.RunningStep == CancelMark)
        {
            return $"Cancelling was interrupted at {rollover.RunningSince:yyyy-MM-dd HH:mm} UTC (the portal stopped while it ran); the rollover is still open, and cancelling again is safe.";
        }

        if (!Enum.TryParse<RolloverStep>(rollover.RunningStep, out var step))
        {
            return null;
        }

        return $"\"{RolloverSteps.Title(step)}\" was interrupted at {rollover.RunningSince:yyyy-MM-dd HH:mm} UTC (the portal stopped while it ran); the portal recorded nothing of it, and running it again is safe.";
    }

    /// <summary>The new generation: its root and the CA signing its devices (an intermediate with a key below it, else the root).</summary>
    public static (SetupCertificate? Root, SetupCertificate? Issuer) Generation(IReadOnlyCollection<SetupCertificate> cas, int rootId)
    {
        ArgumentNullException.ThrowIfNull(cas);
        var root = cas.FirstOrDefault(c => c.Id == rootId);
        if (root is null)
        {
            return (null, null);
        }

        var intermediate = cas
            .Where(c => c.Kind == SetupCertificateKind.Intermediate && c.RetiredAt is null && c.KeyId is not null && string.Equals(c.Issuer, root.Subject, StringComparison.Ordinal))
            .OrderByDescending(c => c.CreatedAt)
            .FirstOrDefault();
        return (root, intermediate ?? (root.KeyId is null ? null : root));
    }

    /// <summary>The CAs of a generation: the root and the intermediates it signed.</summary>
    public static IReadOnlyList<SetupCertificate> Members(IReadOnlyCollection<SetupCertificate> cas, SetupCertificate root)
    {
        ArgumentNullException.ThrowIfNull(cas);
        ArgumentNullException.ThrowIfNull(root);
        return [root, .. cas.Where(c => c.Kind == SetupCertificateKind.Intermediate && c.Id != root.Id && string.Equals(c.Issuer, root.Subject, StringComparison.Ordinal))];
    }

    /// <summary>Why <paramref name="subject"/> cannot name the new root: it must differ from every CA of the setup, also as a DPS certificate name.</summary>
    public static string? NameClash(DpsSetup setup, string subject)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var cn = SetupCertificates.ShortName(subject.Trim());
        var fileName = SafeName(cn);
        var clash = setup.Certificates.FirstOrDefault(c =>
            string.Equals(SetupCertificates.ShortName(c.Subject), cn, StringComparison.OrdinalIgnoreCase)
            || string.Equals(c.DpsCertificateName ?? SafeName(SetupCertificates.ShortName(c.Subject)), fileName, StringComparison.OrdinalIgnoreCase));
        return clash is null
            ? null
            : $"The new CA's name \"{cn}\" is the name of a CA this setup already has ({SetupCertificates.ShortName(clash.Subject)}); devices, the DPS and people could not tell the generations apart.";
    }

    private static string SafeName(string cn) =>
        new string([.. cn.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-')]).Trim('-').ToLowerInvariant();
}
