namespace CheeseCave.Portal.Accounts;

/// <summary>The outcome of an account operation: expected failures are results with plain-language errors.</summary>
public sealed record AccountResult(bool Succeeded, IReadOnlyList<string> Errors, bool Denied = false)
{
    public static AccountResult Success { get; } = new(true, []);

    public static AccountResult Fail(params string[] errors) => new(false, errors);

    public static AccountResult NotAllowed { get; } = new(false, ["You are not allowed to do this."], Denied: true);

    public string ErrorText => string.Join(" ", Errors);
}
