using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CheeseCave.Provisioning.DpsService;

namespace CheeseCave.Portal.Setups.Enrollment;

/// <summary>What DPS does when a device of the group registers again.</summary>
public enum ReprovisionChoice
{
    /// <summary>Re-evaluate the hub and carry the device twin over (DPS default).</summary>
    ReassignAndMigrate,

    /// <summary>Re-evaluate the hub and start from the group's initial twin.</summary>
    ReassignAndReset,

    /// <summary>Keep the device on the hub it was first assigned to.</summary>
    NeverReassign,
}

/// <summary>Step 8's form: an X.509 enrollment group of the setup's DPS, with the initial twin as JSON text.</summary>
public sealed class EnrollmentGroupForm
{
    public string GroupId { get; set; } = "";

    /// <summary>DPS certificate name of a verified CA of the setup.</summary>
    public string PrimaryCa { get; set; } = "";

    public string? SecondaryCa { get; set; }

    /// <summary>Host names of linked hubs; empty means all linked hubs.</summary>
    public IReadOnlyCollection<string> Hubs { get; set; } = [];

    public AllocationPolicy AllocationPolicy { get; set; } = AllocationPolicy.Hashed;

    public ReprovisionChoice Reprovision { get; set; } = ReprovisionChoice.ReassignAndMigrate;

    public string? TagsJson { get; set; }

    public string? DesiredJson { get; set; }

    public bool IotEdge { get; set; }

    public bool Enabled { get; set; } = true;

    /// <summary>A copy, so a request keeps the values the requester saw while the form goes on changing.</summary>
    public static EnrollmentGroupForm CopyOf(EnrollmentGroupForm form) => new()
    {
        GroupId = form.GroupId,
        PrimaryCa = form.PrimaryCa,
        SecondaryCa = form.SecondaryCa,
        Hubs = [.. form.Hubs],
        AllocationPolicy = form.AllocationPolicy,
        Reprovision = form.Reprovision,
        TagsJson = form.TagsJson,
        DesiredJson = form.DesiredJson,
        IotEdge = form.IotEdge,
        Enabled = form.Enabled,
    };
}

/// <summary>The enrollment group as DPS reports it now.</summary>
public sealed record EnrollmentGroupView(
    string GroupId,
    string? PrimaryCa,
    string? SecondaryCa,
    IReadOnlyList<string> Hubs,
    AllocationPolicy? AllocationPolicy,
    ReprovisionChoice Reprovision,
    string? TagsJson,
    string? DesiredJson,
    bool IotEdge,
    bool Enabled,
    DateTimeOffset? CreatedAt,
    DateTimeOffset? UpdatedAt)
{
    internal static EnrollmentGroupView From(EnrollmentGroup group) => new(
        group.EnrollmentGroupId,
        group.Attestation.X509?.CaReferences?.Primary,
        group.Attestation.X509?.CaReferences?.Secondary,
        [.. group.IotHubs ?? []],
        group.AllocationPolicy,
        group.ReprovisionPolicy switch
        {
            null => ReprovisionChoice.ReassignAndMigrate,
            { UpdateHubAssignment: false } => ReprovisionChoice.NeverReassign,
            { MigrateDeviceData: true } => ReprovisionChoice.ReassignAndMigrate,
            _ => ReprovisionChoice.ReassignAndReset,
        },
        group.InitialTwin?.Tags?.ToJsonString(EnrollmentRules.Indented),
        group.InitialTwin?.Properties?.Desired?.ToJsonString(EnrollmentRules.Indented),
        group.Capabilities?.IotEdge ?? false,
        group.ProvisioningStatus != ProvisioningStatus.Disabled,
        group.CreatedDateTimeUtc,
        group.LastUpdatedDateTimeUtc);
}

public static partial class EnrollmentRules
{
    internal static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>
    /// DPS enrollment group ids: up to 128 characters, letters, digits and <c>- . _ :</c>, ending with a letter, digit
    /// or hyphen (DPS compares them case-insensitively).
    /// </summary>
    public static NameCheck CheckGroupId(string? id)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            return new(false, "An enrollment group id is required, e.g. \"cheese-caves\".");
        }

        if (id.Length > 128)
        {
            return new(false, $"An enrollment group id has at most 128 characters; this one has {id.Length}.");
        }

        if (!GroupId().IsMatch(id))
        {
            return new(false, "An enrollment group id may contain only letters, digits, '-', '.', '_' and ':', and must end with a letter, digit or '-'.");
        }

        return new(true, null);
    }

    /// <summary>Parses a twin section: empty is fine (null), otherwise it must be one JSON object.</summary>
    public static (JsonObject? Value, string? Problem) ParseTwinObject(string? text, string what)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return (null, null);
        }

        try
        {
            var node = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
            return node is JsonObject obj
                ? (obj, null)
                : (null, $"The {what} must be a JSON object in braces, e.g. {{ \"cave\": \"north\" }}.");
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is { } line ? $" (line {line + 1}, position {(ex.BytePositionInLine ?? 0) + 1})" : "";
            return (null, $"The {what} is not valid JSON{where}: {FirstSentence(ex.Message)}");
        }
    }

    public static string Explain(ReprovisionChoice choice) => choice switch
    {
        ReprovisionChoice.ReassignAndMigrate => "When a device registers again, DPS may move it to another hub and copies its twin there. The usual choice.",
        ReprovisionChoice.ReassignAndReset => "When a device registers again, DPS may move it to another hub and starts it from this group's initial twin; its old twin data is dropped.",
        ReprovisionChoice.NeverReassign => "A device stays on the hub it was first assigned to, even if you change the hubs or the allocation here.",
        _ => "",
    };

    public static string Title(ReprovisionChoice choice) => choice switch
    {
        ReprovisionChoice.ReassignAndMigrate => "Re-assign and migrate data",
        ReprovisionChoice.ReassignAndReset => "Re-assign and reset to the initial twin",
        ReprovisionChoice.NeverReassign => "Never re-assign",
        _ => choice.ToString(),
    };

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    [GeneratedRegex("^[A-Za-z0-9._:-]*[A-Za-z0-9-]$")]
    private static partial Regex GroupId();
}
