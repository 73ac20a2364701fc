using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Core;
using CheeseCave.Provisioning.Configuration;
using CheeseCave.Provisioning.Errors;

namespace CheeseCave.Provisioning.DpsService;

/// <summary>Options of <see cref="DpsServiceClient"/>.</summary>
public sealed class DpsServiceClientOptions : ProvisioningClientOptions
{
    /// <summary>How long each SAS token is valid (from the TimeProvider's now).</summary>
    public TimeSpan SasTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Test hook: wraps the HTTP handler (to observe or alter traffic).</summary>
    internal Func<HttpMessageHandler, HttpMessageHandler>? WrapHandler { get; set; }
}

/// <summary>
/// The DPS service (data-plane) API, api-version <see cref="ApiVersion"/>: enrollment groups, individual enrollments
/// and registration states, authenticated with a SAS token made from a DPS connection string. Addresses
/// https://{HostName}/ (the emulator's host may carry a port) with the connection's certificate trust. Writes read
/// the etag fresh and send it as If-Match; a 412 (changed in between) makes them read again and repeat.
/// </summary>
public class DpsServiceClient : IDisposable
{
    public const string ApiVersion = "2021-10-01";

    private const int ConcurrencyAttempts = 3;

    private readonly HttpClient _http = null!;
    private readonly RetryingHttpSender _sender = null!;
    private readonly DpsServiceConnectionString _connectionString = null!;
    private readonly DpsServiceClientOptions _options = null!;
    private readonly Uri _baseAddress = null!;

    /// <summary>For mocking.</summary>
    protected DpsServiceClient()
    {
    }

    /// <param name="connectionString">HostName=..;SharedAccessKeyName=..;SharedAccessKey=.. of a DPS policy (ArmProvisioningClient.GetProvisioningServiceConnectionStringAsync).</param>
    /// <param name="connection">Whose certificate trust to use (the emulator's CA, or the system's for Azure).</param>
    public DpsServiceClient(string connectionString, ProvisioningConnection connection, DpsServiceClientOptions? options = null)
        : this(DpsServiceConnectionString.Parse(connectionString), null, connection, options)
    {
    }

    /// <summary>
    /// Entra ID instead of SAS: every request carries a bearer token from <paramref name="credential"/> for
    /// <see cref="EntraScope"/>. The identity needs a DPS data-plane role on the DPS (Device Provisioning Service
    /// Data Contributor or Data Reader); no shared access key is read or used.
    /// </summary>
    /// <param name="hostName">The DPS service host, e.g. mydps.azure-devices-provisioning.net (ProvisioningServiceInfo.ServiceHost).</param>
    public DpsServiceClient(string hostName, TokenCredential credential, ProvisioningConnection connection, DpsServiceClientOptions? options = null)
        : this(new DpsServiceConnectionString(RequireHost(hostName), "", ""), credential ?? throw new ArgumentNullException(nameof(credential)), connection, options)
    {
    }

    private DpsServiceClient(DpsServiceConnectionString connectionString, TokenCredential? credential, ProvisioningConnection connection, DpsServiceClientOptions? options)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connectionString = connectionString;
        _options = options ?? new DpsServiceClientOptions();
        _options.Retry.Validate();
        if (_options.SasTokenLifetime <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.SasTokenLifetime, "SasTokenLifetime must be positive.");
        }

        _baseAddress = new Uri($"https://{_connectionString.HostName}/", UriKind.Absolute);
        var transport = connection.CreateHttpMessageHandler();
        HttpMessageHandler handler = _options.WrapHandler?.Invoke(transport) ?? transport;
        if (credential is not null)
        {
            // Outside the test hook, so a wrapped handler sees the Authorization header as sent.
            _usesBearerToken = true;
            handler = new BearerTokenHandler(credential, EntraScope, _options.TimeProvider, handler);
        }

        _http = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        _sender = new RetryingHttpSender(_http, _options.Retry, _options.TimeProvider, ProvisioningSurface.Service);
    }

    /// <summary>The Entra ID scope of the DPS data plane (what the service SDKs ask for, too).</summary>
    public const string EntraScope = "https://azure-devices-provisioning.net/.default";

    private readonly bool _usesBearerToken;

    /// <summary>The DPS service host (HostName of the connection string).</summary>
    public virtual string HostName => _connectionString.HostName;

    private static string RequireHost(string hostName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(hostName);
        if (hostName.Contains('/', StringComparison.Ordinal) || hostName.Contains(';', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{hostName}' is not a host name (expected e.g. mydps.azure-devices-provisioning.net).", nameof(hostName));
        }

        return hostName.Trim();
    }

    // ---------------------------------------------------------------- enrollment groups

    /// <summary>
    /// Creates the group, or replaces it with <paramref name="group"/> (If-Match with the etag read just before).
    /// Returns the group as stored.
    /// </summary>
    public virtual Task<EnrollmentGroup> CreateOrUpdateEnrollmentGroupAsync(EnrollmentGroup group, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentException.ThrowIfNullOrWhiteSpace(group.EnrollmentGroupId);
        return PutWithFreshEtagAsync<EnrollmentGroup>(EnrollmentGroupPath(group.EnrollmentGroupId), $"save enrollment group '{group.EnrollmentGroupId}'",
            _ => group, cancellationToken);
    }

    /// <summary>
    /// Read-modify-write: reads the group, lets <paramref name="update"/> change it, writes it with If-Match; if
    /// someone changed it in between (412), reads again and re-applies <paramref name="update"/>.
    /// </summary>
    public virtual Task<EnrollmentGroup> UpdateEnrollmentGroupAsync(string enrollmentGroupId, Action<EnrollmentGroup> update, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(enrollmentGroupId);
        ArgumentNullException.ThrowIfNull(update);
        return PutWithFreshEtagAsync<EnrollmentGroup>(EnrollmentGroupPath(enrollmentGroupId), $"update enrollment group '{enrollmentGroupId}'", current =>
        {
            if (current is null)
            {
                throw NotFound($"update enrollment group '{enrollmentGroupId}'", "The enrollment group does not exist.");
            }

            update(current);
            current.EnrollmentGroupId = enrollmentGroupId;
            return current;
        }, cancellationToken);
    }

    /// <summary>The group, or null when it does not exist. Symmetric keys come back masked (see GetEnrollmentGroupAttestationAsync).</summary>
    public virtual Task<EnrollmentGroup?> GetEnrollmentGroupAsync(string enrollmentGroupId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(enrollmentGroupId);
        return GetAsync<EnrollmentGroup>(EnrollmentGroupPath(enrollmentGroupId), $"read enrollment group '{enrollmentGroupId}'", cancellationToken);
    }

    /// <summary>The attestation with its secrets (symmetric keys), which GET masks.</summary>
    public virtual async Task<AttestationMechanism> GetEnrollmentGroupAttestationAsync(string enrollmentGroupId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(enrollmentGroupId);
        var answer = await SendAsync(HttpMethod.Post, $"enrollmentGroups/{Escape(enrollmentGroupId)}/attestationmechanism", null, null, null,
            $"read the attestation of enrollment group '{enrollmentGroupId}'", cancellationToken).ConfigureAwait(false);
        return Deserialize<AttestationMechanism>(answer, "attestation mechanism");
    }

    /// <summary>Deletes the group; returns false when it did not exist. Registrations made through it stay.</summary>
    public virtual Task<bool> DeleteEnrollmentGroupAsync(string enrollmentGroupId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(enrollmentGroupId);
        return DeleteAsync(EnrollmentGroupPath(enrollmentGroupId), $"delete enrollment group '{enrollmentGroupId}'", cancellationToken);
    }

    /// <summary>All enrollment groups, page by page (x-ms-continuation followed).</summary>
    public virtual IAsyncEnumerable<EnrollmentGroup> QueryEnrollmentGroupsAsync(int? pageSize = null, CancellationToken cancellationToken = default) =>
        QueryAsync<EnrollmentGroup>("enrollmentGroups/query", pageSize, "query the enrollment groups", cancellationToken);

    // ---------------------------------------------------------------- individual enrollments

    public virtual Task<IndividualEnrollment> CreateOrUpdateIndividualEnrollmentAsync(IndividualEnrollment enrollment, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(enrollment);
        ArgumentException.ThrowIfNullOrWhiteSpace(enrollment.RegistrationId);
        return PutWithFreshEtagAsync<IndividualEnrollment>(EnrollmentPath(enrollment.RegistrationId), $"save individual enrollment '{enrollment.RegistrationId}'",
            _ => enrollment, cancellationToken);
    }

    public virtual Task<IndividualEnrollment> UpdateIndividualEnrollmentAsync(string registrationId, Action<IndividualEnrollment> update, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(registrationId);
        ArgumentNullException.ThrowIfNull(update);
        return PutWithFreshEtagAsync<IndividualEnrollment>(EnrollmentPath(registrationId), $"update individual enrollment '{registrationId}'", current =>
        {
            if (current is null)
            {
                throw NotFound($"update individual enrollment '{registrationId}'", "The individual enrollment does not exist.");
            }

            update(current);
            current.RegistrationId = registrationId;
            current.RegistrationState = null;
            return current;
        }, cancellationToken);
    }

    public virtual Task<IndividualEnrollment?> GetIndividualEnrollmentAsync(string registrationId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(registrationId);
        return GetAsync<IndividualEnrollment>(EnrollmentPath(registrationId), $"read individual enrollment '{registrationId}'", cancellationToken);
    }

    public virtual Task<bool> DeleteIndividualEnrollmentAsync(string registrationId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(registrationId);
        return DeleteAsync(EnrollmentPath(registrationId), $"delete individual enrollment '{registrationId}'", cancellationToken);
    }

    public virtual IAsyncEnumerable<IndividualEnrollment> QueryIndividualEnrollmentsAsync(int? pageSize = null, CancellationToken cancellationToken = default) =>
        QueryAsync<IndividualEnrollment>("enrollments/query", pageSize, "query the individual enrollments", cancellationToken);

    // ---------------------------------------------------------------- registration states

    /// <summary>The device's registration record, or null when it has not registered (or the record was deleted).</summary>
    public virtual Task<DeviceRegistrationState?> GetDeviceRegistrationStateAsync(string registrationId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(registrationId);
        return GetAsync<DeviceRegistrationState>($"registrations/{Escape(registrationId)}", $"read the registration of '{registrationId}'", cancellationToken);
    }

    /// <summary>Deletes the registration record (the device may register again); false when there was none.</summary>
    public virtual Task<bool> DeleteDeviceRegistrationStateAsync(string registrationId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(registrationId);
        return DeleteAsync($"registrations/{Escape(registrationId)}", $"delete the registration of '{registrationId}'", cancellationToken);
    }

    /// <summary>The registrations made through one enrollment group, page by page.</summary>
    public virtual IAsyncEnumerable<DeviceRegistrationState> QueryDeviceRegistrationStatesAsync(string enrollmentGroupId, int? pageSize = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(enrollmentGroupId);
        return QueryAsync<DeviceRegistrationState>($"registrations/{Escape(enrollmentGroupId)}/query", pageSize,
            $"query the registrations of enrollment group '{enrollmentGroupId}'", cancellationToken);
    }

    // ---------------------------------------------------------------- plumbing

    private static string EnrollmentGroupPath(string id) => $"enrollmentGroups/{Escape(id)}";

    private static string EnrollmentPath(string id) => $"enrollments/{Escape(id)}";

    private static string Escape(string segment) => Uri.EscapeDataString(segment);

    /// <summary>
    /// GET (fresh etag) → <paramref name="produce"/> the body → PUT with If-Match (none when creating). 412 (changed
    /// meanwhile) or 409 (created meanwhile) → read again and repeat, a few times, then ResourceChangedException.
    /// </summary>
    private async Task<T> PutWithFreshEtagAsync<T>(string path, string action, Func<T?, T> produce, CancellationToken cancellationToken)
        where T : EnrollmentBase
    {
        for (var attempt = 1; ; attempt++)
        {
            var current = await GetAsync<T>(path, action, cancellationToken).ConfigureAwait(false);
            var body = produce(current);
            var node = JsonSerializer.SerializeToNode(body, DpsJson.Options) as JsonObject ?? throw new InvalidOperationException("The enrollment did not serialize to a JSON object.");
            node.Remove("etag");
            node.Remove("createdDateTimeUtc");
            node.Remove("lastUpdatedDateTimeUtc");
            node.Remove("registrationState");
            try
            {
                var answer = await SendAsync(HttpMethod.Put, path, node, current?.ETag, null, action, cancellationToken).ConfigureAwait(false);
                return Deserialize<T>(answer, action);
            }
            catch (ProvisioningException ex) when (attempt < ConcurrencyAttempts && (ex is ResourceChangedException || ex.Status == (int)HttpStatusCode.Conflict))
            {
                // someone else changed (or created) it between our read and our write: read again
            }
        }
    }

    private async Task<T?> GetAsync<T>(string path, string action, CancellationToken cancellationToken)
        where T : class
    {
        var answer = await SendAsync(HttpMethod.Get, path, null, null, null, action, cancellationToken, 404).ConfigureAwait(false);
        return answer.Status == 404 ? null : Deserialize<T>(answer, action);
    }

    private async Task<bool> DeleteAsync(string path, string action, CancellationToken cancellationToken)
    {
        var answer = await SendAsync(HttpMethod.Delete, path, null, null, null, action, cancellationToken, 404).ConfigureAwait(false);
        return answer.Status != 404;
    }

    private async IAsyncEnumerable<T> QueryAsync<T>(string path, int? pageSize, string action, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (pageSize is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(pageSize), pageSize, "The page size must be at least 1.");
        }

        string? continuation = null;
        do
        {
            var headers = new Dictionary<string, string>();
            if (pageSize is { } size) headers["x-ms-max-item-count"] = size.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (continuation is not null) headers["x-ms-continuation"] = continuation;
            var answer = await SendAsync(HttpMethod.Post, path, new JsonObject { ["query"] = "*" }, null, headers, action, cancellationToken).ConfigureAwait(false);
            foreach (var item in Deserialize<List<T>>(answer, action))
            {
                yield return item;
            }

            continuation = answer.Header("x-ms-continuation") is { Length: > 0 } next ? next : null;
        }
        while (continuation is not null);
    }

    private Task<HttpAnswer> SendAsync(HttpMethod method, string path, JsonNode? body, string? ifMatch, IReadOnlyDictionary<string, string>? headers, string action, CancellationToken cancellationToken, params int[] acceptedStatuses) =>
        _sender.SendAsync(() =>
        {
            var request = new HttpRequestMessage(method, new Uri(_baseAddress, $"{path}?api-version={ApiVersion}"));
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

            // A new token per request: se = now + lifetime on the configured clock. (With Entra ID the
            // BearerTokenHandler adds the Authorization header instead: getting a token is asynchronous.)
            if (!_usesBearerToken)
            {
                request.Headers.TryAddWithoutValidation("Authorization", SharedAccessSignature.Create(
                    _connectionString.HostName, _connectionString.SharedAccessKeyName, _connectionString.SharedAccessKey,
                    _options.TimeProvider.GetUtcNow() + _options.SasTokenLifetime));
            }
            if (ifMatch is not null)
            {
                // Verbatim, as the service gave it (a quoted etag is what broke the C# SDK, azure-iot-sdk-csharp#3076).
                request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
            }

            foreach (var (name, value) in headers ?? new Dictionary<string, string>())
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }

            if (body is not null)
            {
                request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
            }

            return request;
        }, action, cancellationToken, acceptedStatuses);

    private static T Deserialize<T>(HttpAnswer answer, string action)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(answer.Body, DpsJson.Options)
                ?? throw new JsonException("The body is empty.");
        }
        catch (JsonException ex)
        {
            throw new ProvisioningException(new ProvisioningErrorDetails(ProvisioningSurface.Service, answer.Status,
                $"Could not {action}: the service's answer could not be read ({ex.Message}).", null, answer.Header("x-ms-request-id")), ex);
        }
    }

    private static ProvisioningException NotFound(string action, string text) =>
        new(new ProvisioningErrorDetails(ProvisioningSurface.Service, 404, $"Could not {action}: {text}", "404201"));

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _http?.Dispose();
        }
    }
}
