using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Approvals;

/// <summary>The <c>CheeseCave:Approvals</c> section: which actions need a colleague's approval, how many, and for how long.</summary>
public sealed class ApprovalOptions
{
    public const string SectionName = "CheeseCave:Approvals";

    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Action names (see <see cref="ApprovalAction"/>). Null means all of them. (A default list here would be
    /// appended to, not replaced, by the configuration binder.)
    /// </summary>
    public List<string>? RequiredFor { get; set; }

    /// <summary>Distinct approvers, never the requester; at least 1.</summary>
    public int RequiredApprovers { get; set; } = 1;

    public TimeSpan ExpiresAfter { get; set; } = TimeSpan.FromDays(3);

    public bool Requires(ApprovalAction action) =>
        Enabled && (RequiredFor is null || RequiredFor.Any(name => string.Equals(name.Trim(), action.ToString(), StringComparison.OrdinalIgnoreCase)));
}

/// <summary>Refuses to start with settings that would make approvals meaningless or impossible.</summary>
public sealed class ApprovalOptionsValidator : IValidateOptions<ApprovalOptions>
{
    public ValidateOptionsResult Validate(string? name, ApprovalOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        if (options.RequiredApprovers < 1)
        {
            problems.Add($"{ApprovalOptions.SectionName}:RequiredApprovers is {options.RequiredApprovers}; it must be at least 1 (the requester never counts).");
        }
        else if (options.RequiredApprovers > 10)
        {
            problems.Add($"{ApprovalOptions.SectionName}:RequiredApprovers is {options.RequiredApprovers}; use 10 or fewer.");
        }

        if (options.ExpiresAfter < TimeSpan.FromMinutes(5) || options.ExpiresAfter > TimeSpan.FromDays(90))
        {
            problems.Add($"{ApprovalOptions.SectionName}:ExpiresAfter is {options.ExpiresAfter}; use between 00:05:00 (5 minutes) and 90.00:00:00 (90 days), e.g. 3.00:00:00.");
        }

        var known = Enum.GetNames<ApprovalAction>();
        foreach (var action in options.RequiredFor ?? [])
        {
            if (!known.Contains(action?.Trim(), StringComparer.OrdinalIgnoreCase))
            {
                problems.Add($"{ApprovalOptions.SectionName}:RequiredFor lists '{action}', which is not an action. Known actions: {string.Join(", ", known)}.");
            }
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
