namespace CheeseCave.Emulator.Arm;

/// <summary>Azure's naming rules, checked with the messages people need.</summary>
internal static partial class ArmNames
{
    /// <summary>DPS and IoT Hub names: 3-50 letters, digits and hyphens, not all digits, no leading or trailing hyphen.</summary>
    public static bool IsValidDevicesResourceName(string name) => DevicesName().IsMatch(name);

    public static bool IsValidResourceGroupName(string name) => GroupName().IsMatch(name) && !name.EndsWith('.');

    /// <summary>"East US" → "eastus", as ARM echoes locations.</summary>
    public static string NormalizeLocation(string location) => location.Replace(" ", string.Empty, StringComparison.Ordinal).ToLowerInvariant();

    public static string InvalidProvisioningServiceNameMessage(string name) =>
        $"The provisioning service name '{name}' is invalid: use 3 to 50 letters, digits and hyphens, not only digits, starting and ending with a letter or digit.";

    public static string InvalidIotHubNameMessage(string name) =>
        $"The IoT hub name '{name}' is invalid: use 3 to 50 letters, digits and hyphens, not only digits, starting and ending with a letter or digit.";

    [System.Text.RegularExpressions.GeneratedRegex("^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{2,49}[a-zA-Z0-9]$")]
    private static partial System.Text.RegularExpressions.Regex DevicesName();

    [System.Text.RegularExpressions.GeneratedRegex(@"^[-\w\._\(\)]{1,90}$")]
    private static partial System.Text.RegularExpressions.Regex GroupName();
}
