using System.Text.Json.Nodes;

namespace CheeseCave.Emulator.Arm;

/// <summary>What an IoT hub PUT asks for, read from its body in the order Azure checks it (location, sku, tags).</summary>
internal sealed record IotHubDefinition(string Location, string Sku, long Capacity, Dictionary<string, string>? Tags)
{
    public static readonly IReadOnlyList<string> Skus = ["F1", "S1", "S2", "S3", "B1", "B2", "B3"];

    public static IotHubDefinition FromBody(JsonObject? body)
    {
        var location = ArmRequests.OptionalString(body, "location", "location");
        if (string.IsNullOrWhiteSpace(location))
        {
            throw ArmErrors.LocationRequired();
        }

        var sku = ArmRequests.OptionalObject(body, "sku", "sku") ?? throw ArmErrors.IotHubSkuRequired(Skus);
        var skuName = ArmRequests.OptionalString(sku, "name", "sku.name");
        var canonicalSku = Skus.FirstOrDefault(s => s.Equals(skuName, StringComparison.OrdinalIgnoreCase))
            ?? throw ArmErrors.IotHubSkuUnknown(skuName, Skus);
        var capacity = ArmRequests.OptionalInteger(sku, "capacity", "sku.capacity") ?? 1;
        if (capacity < 1 || (canonicalSku == "F1" && capacity != 1))
        {
            throw canonicalSku == "F1" ? ArmErrors.FreeSkuCapacity() : ArmErrors.InvalidSkuCapacity();
        }

        var tags = ArmRequests.OptionalTags(body);
        return new IotHubDefinition(ArmNames.NormalizeLocation(location), canonicalSku, capacity, tags);
    }
}
