using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace CheeseCave.Portal.Approvals;

/// <summary>
/// Names a payload record in stored JSON (<c>"kind": "create-ca"</c>). Features mark their payload records with it;
/// the names are stored in the database, so they never change.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class ApprovalPayloadKindAttribute(string kind) : Attribute
{
    public string Kind { get; } = kind;
}

/// <summary>
/// The JSON of <see cref="ApprovalPayload"/>: polymorphic over every payload record marked with
/// <see cref="ApprovalPayloadKindAttribute"/>, found once by reflection, so Approvals need not list the features'
/// payload types (which would make it depend on every feature).
/// </summary>
internal static class ApprovalPayloadJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var derived = typeof(ApprovalPayload).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && t.IsAssignableTo(typeof(ApprovalPayload)))
            .Select(t => (Type: t, Kind: t.GetCustomAttribute<ApprovalPayloadKindAttribute>()?.Kind
                ?? throw new InvalidOperationException($"Approval payload {t.FullName} needs an [ApprovalPayloadKind] name.")))
            .OrderBy(t => t.Kind, StringComparer.Ordinal)
            .ToList();
        var duplicate = derived.GroupBy(t => t.Kind).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"Two approval payloads are named '{duplicate.Key}'.");
        }

        var resolver = new DefaultJsonTypeInfoResolver();
        resolver.Modifiers.Add(info =>
        {
            if (info.Type != typeof(ApprovalPayload))
            {
                return;
            }

            info.PolymorphismOptions = new JsonPolymorphismOptions { TypeDiscriminatorPropertyName = "kind" };
            foreach (var (type, kind) in derived)
            {
                info.PolymorphismOptions.DerivedTypes.Add(new JsonDerivedType(type, kind));
            }
        });
        return new JsonSerializerOptions { TypeInfoResolver = resolver, Converters = { new JsonStringEnumConverter() } };
    }
}
