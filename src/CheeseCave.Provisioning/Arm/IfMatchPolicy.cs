using Azure.Core;
using Azure.Core.Pipeline;

namespace CheeseCave.Provisioning.Arm;

/// <summary>
/// Adds If-Match to the PUT that GenericResourceCollection.CreateOrUpdate sends (it has no parameter for it). The
/// etag travels in an HttpMessage property scope, so only the PUT of that one call, to that one resource, gets it.
/// </summary>
internal sealed class IfMatchPolicy : HttpPipelineSynchronousPolicy
{
    public const string PropertyName = "CheeseCave.Provisioning.IfMatch";

    public sealed record Condition(string ResourcePath, string ETag);

    public static IDisposable Scope(string resourcePath, string etag) =>
        HttpPipeline.CreateHttpMessagePropertiesScope(new Dictionary<string, object?> { [PropertyName] = new Condition(resourcePath, etag) });

    public override void OnSendingRequest(HttpMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Request.Method == RequestMethod.Put
            && message.TryGetProperty(PropertyName, out var value) && value is Condition condition
            && string.Equals(Uri.UnescapeDataString(message.Request.Uri.Path).TrimEnd('/'), condition.ResourcePath.TrimEnd('/'), StringComparison.OrdinalIgnoreCase))
        {
            message.Request.Headers.SetValue("If-Match", condition.ETag);
        }
    }
}

/// <summary>Reaches the HttpPipeline of an ArmClient the way resource packages do: as a derived ArmResource.</summary>
internal sealed class ArmPipelineAccess : Azure.ResourceManager.ArmResource
{
    public ArmPipelineAccess(Azure.ResourceManager.ArmClient client)
        : base(client, ResourceIdentifier.Root)
    {
    }

    public HttpPipeline HttpPipeline => Pipeline;
}
