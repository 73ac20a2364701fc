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
            return (null, $"The {what} is not valid JSON {DescribeJsonError(text, ex)}");
        }
    }

    /// <summary>
    /// Where a JSON text breaks and why, in plain words ("at line 1, column 12 (near 'north }'): a text value needs
    /// double quotes, e.g. "north"."), instead of the parser's own message, which names its internals.
    /// </summary>
    internal static string DescribeJsonError(string text, JsonException ex)
    {
        var lineIndex = (int)(ex.LineNumber ?? 0);
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var line = lineIndex < lines.Length ? lines[lineIndex] : "";
        var column = (int)Math.Min(ex.BytePositionInLine ?? 0, line.Length);
        while (column > 0 && column < line.Length && char.IsLetter(line[column]) && char.IsLetterOrDigit(line[column - 1]))
        {
            column--; // the parser stops inside a bare word ("north" read as a broken "null"): point at its start
        }

        var rest = line[column..].TrimStart();
        var near = rest.Length == 0 ? "at the end" : $"(near '{(rest.Length > 20 ? rest[..20] + "…" : rest)}')";
        var atEnd = string.Join('\n', lines.Skip(lineIndex + 1)).Trim().Length == 0 && rest.Length == 0;
        var why = rest switch
        {
            _ when atEnd => "it ends too early: a closing brace }, a bracket ] or a quote is missing.",
            ['\'', ..] => "JSON uses double quotes (\"), not single quotes.",
            [var c, ..] when char.IsLetter(c) && !rest.StartsWith("true", StringComparison.Ordinal) && !rest.StartsWith("false", StringComparison.Ordinal) && !rest.StartsWith("null", StringComparison.Ordinal) =>
                $"a text value or name needs double quotes, e.g. \"{new string([.. rest.TakeWhile(char.IsLetterOrDigit)])}\".",
            ['}' or ']', ..] when line[..column].TrimEnd().EndsWith(',') => "there is a comma before the closing brace or bracket; remove it.",
            [var c, ..] => $"'{c}' is not expected here (a comma, a colon or a quote may be missing before it).",
            _ => "the text stops in the middle.",
        };
        return $"at line {lineIndex + 1}, column {column + 1} {near}: {why}";
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


    [GeneratedRegex("^[A-Za-z0-9._:-]*[A-Za-z0-9-]$")]
    private static partial Regex GroupId();
}
