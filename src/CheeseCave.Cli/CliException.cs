namespace CheeseCave.Cli;

/// <summary>A failure the user can fix; printed as one line, exit code 1 (2 for command-line usage mistakes).</summary>
internal sealed class CliException(string message, int exitCode = ExitCodes.Failure) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

internal static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;
}
