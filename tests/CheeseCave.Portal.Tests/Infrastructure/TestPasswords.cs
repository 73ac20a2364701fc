namespace CheeseCave.Portal.Tests.Infrastructure;

public static class TestPasswords
{
    public const string Default = "cave-aged gruyere 42";
}
