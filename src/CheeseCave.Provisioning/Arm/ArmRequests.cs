using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.ResourceManager;
using Azure.ResourceManager.Resources;
using CheeseCave.Provisioning.Configuration;
using CheeseCave.Provisioning.Diagnostics;
using CheeseCave.Provisioning.Errors;

namespace CheeseCave.Provisioning.Arm;

/// <summary>
/// The one way the ARM operation classes reach Azure: the ArmClient (GenericResource with pinned api-versions, see
/// <see cref="ArmApiVersions"/>) and its HttpPipeline for POST actions, resource ids, fresh etags, paging, and every
/// failure turned into a <see cref="ProvisioningException"/> (transient ones already retried by Azure.Core).
/// </summary>
internal sealed class ArmRequests
{
    /// <summary>How often a write whose etag went stale (412) is re-read and tried again.</summary>
    public const int ConcurrencyAttempts = 3;

    private readonly ArmClient _arm;
    private readonly HttpPipeline _pipeline;
    private readonly string _endpoint;
    private string? _subscriptionId;

    public ArmRequests(ProvisioningConnection connection, ArmProvisioningClientOptions? options)
    {
        ArgumentNullException.ThrowIfNull(connection);
        Options = options ?? new ArmProvisioningClientOptions();
        Options.Retry.Validate();
        _subscriptionId = connection.SubscriptionId;
        _endpoint = connection.ArmEnvironment.Endpoint.AbsoluteUri.TrimEnd('/');

        var armOptions = new ArmClientOptions { Environment = connection.ArmEnvironment };
        armOptions.Diagnostics.ApplicationId = "CheeseCave";
        armOptions.Retry.Mode = RetryMode.Exponential;
        armOptions.Retry.MaxRetries = Options.Retry.MaxRetries;
        armOptions.Retry.Delay = Options.Retry.Delay;
        armOptions.Retry.MaxDelay = Options.Retry.MaxDelay;
        armOptions.Retry.NetworkTimeout = Options.Retry.NetworkTimeout;
        ArmApiVersions.Pin(armOptions);
        armOptions.AddPolicy(new IfMatchPolicy(), HttpPipelinePosition.PerCall);
        if (connection.TrustedRoots is not null || Options.WrapHandler is not null)
        {
            // The emulator: a handler that trusts only its CA. Azure keeps Azure.Core's default transport.
            var handler = connection.CreateHttpMessageHandler();
            armOptions.Transport = new HttpClientTransport(Options.WrapHandler?.Invoke(handler) ?? handler);
        }

        _arm = new ArmClient(connection.Credential, connection.SubscriptionId, armOptions);
        _pipeline = new ArmPipelineAccess(_arm).HttpPipeline;
    }

    public ArmClient Arm => _arm;

    public ArmProvisioningClientOptions Options { get; }

    public async Task<SubscriptionResource> SubscriptionAsync(CancellationToken cancellationToken)
    {
        var id = await SubscriptionIdAsync(cancellationToken).ConfigureAwait(false);
        return _arm.GetSubscriptionResource(SubscriptionResource.CreateResourceIdentifier(id));
    }

    /// <summary>The connection's subscription, or the first one the credential can see (remembered for later requests).</summary>
    public Task<SubscriptionInfo> DefaultSubscriptionAsync(CancellationToken cancellationToken) =>
        CallAsync("read the default subscription", async () =>
        {
            var subscription = await _arm.GetDefaultSubscriptionAsync(cancellationToken).ConfigureAwait(false);
            _subscriptionId ??= subscription.Data.SubscriptionId;
            return Subscription(subscription.Data);
        }, cancellationToken);

    public async Task<string> SubscriptionIdAsync(CancellationToken cancellationToken) =>
        _subscriptionId ??= (await DefaultSubscriptionAsync(cancellationToken).ConfigureAwait(false)).SubscriptionId;

    public async Task<ResourceIdentifier> ProvisioningServiceIdAsync(string resourceGroup, string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(resourceGroup);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var subscriptionId = await SubscriptionIdAsync(cancellationToken).ConfigureAwait(false);
        return new ResourceIdentifier($"/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/{ArmApiVersions.ProvisioningServiceType}/{name}");
    }

    public async Task<ResourceIdentifier> IotHubIdAsync(string resourceGroup, string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(resourceGroup);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var subscriptionId = await SubscriptionIdAsync(cancellationToken).ConfigureAwait(false);
        return new ResourceIdentifier($"/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/{ArmApiVersions.IotHubType}/{name}");
    }

    public async Task<string> CertificatePathAsync(string resourceGroup, string provisioningServiceName, string certificateName, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(certificateName);
        var id = await ProvisioningServiceIdAsync(resourceGroup, provisioningServiceName, cancellationToken).ConfigureAwait(false);
        return $"{id}/certificates/{Uri.EscapeDataString(certificateName)}";
    }

    public async Task<string> ProviderPathAsync(string? resourceGroup, string type, CancellationToken cancellationToken)
    {
        var subscriptionId = await SubscriptionIdAsync(cancellationToken).ConfigureAwait(false);
        return resourceGroup is null
            ? $"/subscriptions/{subscriptionId}/providers/{ArmApiVersions.ProviderNamespace}/{type}"
            : $"/subscriptions/{subscriptionId}/resourceGroups/{Uri.EscapeDataString(resourceGroup)}/providers/{ArmApiVersions.ProviderNamespace}/{type}";
    }

    /// <summary>
    /// Runs <paramref name="write"/> with the resource's etag read just before (null when it does not exist and that
    /// is allowed). On 412 (changed in between) it reads again and repeats, up to <paramref name="attempts"/> times.
    /// </summary>
    public async Task<T> WithFreshEtagAsync<T>(string path, string action, bool allowMissing, Func<string?, Task<T>> write, CancellationToken cancellationToken, int attempts = ConcurrencyAttempts)
    {
        for (var attempt = 1; ; attempt++)
        {
            string? etag;
            using (var document = await SendAsync(RequestMethod.Get, path, ArmApiVersions.ProvisioningServices, null, null, action, allowMissing, cancellationToken).ConfigureAwait(false))
            {
                etag = document is null ? null : ArmJson.Etag(document.RootElement) ?? "*";
            }

            try
            {
                return await write(etag).ConfigureAwait(false);
            }
            catch (ResourceChangedException) when (attempt < attempts)
            {
                // the etag went stale between our read and our write: read again
            }
        }
    }

    public async Task<Response<GenericResource>?> GetGenericAsync(ResourceIdentifier id, string action, CancellationToken cancellationToken)
    {
        using var activity = ProvisioningTelemetry.Start(ProvisioningSurface.Arm, action, "GET", id.ToString());
        try
        {
            return await _arm.GetGenericResource(id).GetAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ProvisioningErrorClassifier.FromException(ProvisioningSurface.Arm, ex, null, action) is { } mapped)
        {
            ProvisioningTelemetry.Failed(activity, mapped);
            throw mapped;
        }
    }

    public async Task<bool> DeleteGenericAsync(ResourceIdentifier id, string action, CancellationToken cancellationToken)
    {
        if (await GetGenericAsync(id, action, cancellationToken).ConfigureAwait(false) is null)
        {
            return false;
        }

        await CallAsync(action, () => _arm.GetGenericResource(id).DeleteAsync(WaitUntil.Completed, cancellationToken), cancellationToken).ConfigureAwait(false);
        return true;
    }

    public static async Task<T> CallAsync<T>(string action, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        using var activity = ProvisioningTelemetry.Start(ProvisioningSurface.Arm, action);
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested && !ProvisioningTelemetry.Failed(activity, ex))
        {
            throw;
        }
        catch (Exception ex) when (ex is not ProvisioningException && ProvisioningErrorClassifier.FromException(ProvisioningSurface.Arm, ex, null, action) is { } mapped)
        {
            ProvisioningTelemetry.Failed(activity, mapped);
            throw mapped;
        }
        catch (ProvisioningException ex) when (ProvisioningTelemetry.Failed(activity, ex))
        {
            throw; // never reached: the filter only tags the span
        }
    }

    /// <summary>
    /// One request through the ArmClient's pipeline (bearer token, retries, transport). Returns the JSON body, null
    /// for 404 when <paramref name="allowNotFound"/> or for an empty body; other failures throw.
    /// </summary>
    public async Task<JsonDocument?> SendAsync(RequestMethod method, string pathOrUrl, string apiVersion, JsonNode? body, string? ifMatch, string action, bool allowNotFound, CancellationToken cancellationToken)
    {
        using var message = _pipeline.CreateMessage();
        var request = message.Request;
        request.Method = method;
        var url = pathOrUrl.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ? pathOrUrl : _endpoint + pathOrUrl;
        if (!url.Contains("api-version=", StringComparison.OrdinalIgnoreCase))
        {
            url += (url.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "api-version=" + Uri.EscapeDataString(apiVersion);
        }

        var uri = new Uri(url);
        request.Uri.Reset(uri);
        using var activity = ProvisioningTelemetry.Start(ProvisioningSurface.Arm, action, method.Method, uri.AbsolutePath);
        request.Headers.Add("Accept", "application/json");
        if (ifMatch is not null)
        {
            request.Headers.Add("If-Match", ifMatch);
        }

        if (body is not null)
        {
            request.Headers.Add("Content-Type", "application/json");
            request.Content = RequestContent.Create(BinaryData.FromString(body.ToJsonString()));
        }
        else if (method == RequestMethod.Post)
        {
            request.Content = RequestContent.Create(BinaryData.FromString(string.Empty));
        }

        try
        {
            await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested && !ProvisioningTelemetry.Failed(activity, ex))
        {
            throw;
        }
        catch (Exception ex) when (ProvisioningErrorClassifier.FromException(ProvisioningSurface.Arm, ex, request.ClientRequestId, action) is { } mapped)
        {
            ProvisioningTelemetry.Failed(activity, mapped);
            throw mapped;
        }

        var response = message.Response;
        activity?.SetTag("http.response.status_code", response.Status);
        if (response.Status == 404 && allowNotFound)
        {
            return null;
        }

        if (response.Status >= 300)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error);
            throw ProvisioningErrorClassifier.FromResponse(ProvisioningSurface.Arm, response.Status, response.Content?.ToString(),
                name => response.Headers.TryGetValue(name, out var value) ? value : null, response.ClientRequestId, action);
        }

        var content = response.Content?.ToMemory() ?? ReadOnlyMemory<byte>.Empty;
        return content.IsEmpty ? null : JsonDocument.Parse(content);
    }

    /// <summary>Follows nextLink through every page of an ARM list ({value, nextLink}).</summary>
    public async Task<List<JsonElement>> ListAsync(string path, string apiVersion, string action, CancellationToken cancellationToken, RequestMethod? method = null)
    {
        var items = new List<JsonElement>();
        string? next = path;
        var first = true;
        while (next is not null)
        {
            using var document = await SendAsync(first ? method ?? RequestMethod.Get : RequestMethod.Get, next, apiVersion, null, null, action, false, cancellationToken).ConfigureAwait(false);
            first = false;
            next = null;
            if (document is null) break;
            if (ArmJson.Prop(document.RootElement, "value") is { ValueKind: JsonValueKind.Array } value)
            {
                items.AddRange(value.EnumerateArray().Select(e => e.Clone()));
            }

            next = ArmJson.Str(document.RootElement, "nextLink") is { Length: > 0 } link ? link : null;
        }

        return items;
    }

    public static void AddTags(GenericResourceData data, IReadOnlyDictionary<string, string>? tags)
    {
        if (tags is null) return;
        foreach (var (key, value) in tags)
        {
            data.Tags[key] = value;
        }
    }

    public static JsonElement PropertiesOf(GenericResourceData data)
    {
        if (data.Properties is null) return default;
        using var document = JsonDocument.Parse(data.Properties.ToMemory());
        return document.RootElement.Clone();
    }

    public static ProvisioningServiceInfo ProvisioningService(GenericResourceData data) =>
        ArmJson.ProvisioningService(data.Name, data.Id?.ResourceGroupName, data.Location.Name, data.Sku?.Name, data.Sku?.Capacity, PropertiesOf(data));

    public static IotHubInfo IotHub(GenericResourceData data) =>
        ArmJson.IotHub(data.Name, data.Id?.ResourceGroupName, data.Location.Name, data.Sku?.Name, data.Sku?.Capacity, PropertiesOf(data));

    public static SubscriptionInfo Subscription(SubscriptionData data) =>
        new(data.SubscriptionId, data.DisplayName, data.TenantId?.ToString(), data.State?.ToString());

    public static ResourceGroupInfo ResourceGroup(ResourceGroupData data) =>
        new(data.Name, data.Location.Name, data.ResourceGroupProvisioningState);
}
