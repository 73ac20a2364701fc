using System.Text.Json;
using Azure;
using Azure.ResourceManager;
using Azure.ResourceManager.Resources;
using CheeseCave.Provisioning.Errors;

namespace CheeseCave.Provisioning.Arm;

/// <summary>
/// A create that ARM runs as a long-running operation, handed out so a UI can show progress: call
/// <see cref="UpdateStatusAsync"/> on a timer (and show <see cref="StatusText"/>), or <see cref="WaitForCompletionAsync"/>.
/// </summary>
public class ArmProvisioningOperation<T>
    where T : class
{
    private readonly ArmOperation<GenericResource>? _operation;
    private readonly Func<GenericResourceData, T>? _convert;
    private readonly string _action = "finish the operation";
    private readonly TimeProvider _time = TimeProvider.System;
    private readonly TimeSpan _pollInterval = TimeSpan.FromSeconds(2);
    private T? _value;

    /// <summary>For mocking.</summary>
    protected ArmProvisioningOperation()
    {
    }

    internal ArmProvisioningOperation(ArmOperation<GenericResource> operation, Func<GenericResourceData, T> convert, string action, TimeProvider time, TimeSpan pollInterval)
    {
        _operation = operation;
        _convert = convert;
        _action = action;
        _time = time;
        _pollInterval = pollInterval;
        // Azure answers a create with provisioningState "Accepted" (and no idScope yet); show that until the first poll.
        StatusText = operation.HasCompleted ? "Succeeded" : ReadStatus(operation.GetRawResponse()) ?? "InProgress";
        if (operation.HasCompleted && operation.HasValue)
        {
            _value = convert(operation.Value.Data);
        }
    }

    /// <summary>The operation id Azure.Core gives it (to log or show).</summary>
    public virtual string Id => _operation?.Id ?? string.Empty;

    public virtual bool HasCompleted => _operation?.HasCompleted ?? true;

    /// <summary>The last status ARM reported: InProgress, Succeeded, ... (for display).</summary>
    public virtual string StatusText { get; private set; } = "InProgress";

    /// <summary>The created resource, once <see cref="HasCompleted"/>.</summary>
    public virtual T? Value => _value;

    /// <summary>Polls ARM once; returns true when the operation has finished.</summary>
    public virtual async Task<bool> UpdateStatusAsync(CancellationToken cancellationToken = default)
    {
        var operation = _operation ?? throw new InvalidOperationException("This operation has no ARM operation behind it.");
        if (operation.HasCompleted)
        {
            return true;
        }

        try
        {
            var response = await operation.UpdateStatusAsync(cancellationToken).ConfigureAwait(false);
            StatusText = operation.HasCompleted ? "Succeeded" : ReadStatus(response) ?? "InProgress";
            if (operation.HasCompleted && operation.HasValue)
            {
                _value = _convert!(operation.Value.Data);
            }

            return operation.HasCompleted;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is not ProvisioningException && ProvisioningErrorClassifier.FromException(ProvisioningSurface.Arm, ex, null, _action) is { } mapped)
        {
            StatusText = "Failed";
            throw mapped;
        }
    }

    /// <summary>Polls until done, waiting the service's Retry-After (or the configured interval) between polls.</summary>
    public virtual async Task<T> WaitForCompletionAsync(CancellationToken cancellationToken = default)
    {
        while (!await UpdateStatusAsync(cancellationToken).ConfigureAwait(false))
        {
            var retryAfter = _operation!.GetRawResponse().Headers.TryGetValue("Retry-After", out var header)
                ? ProvisioningErrorClassifier.ParseRetryAfter(header, milliseconds: false)
                : null;
            var delay = retryAfter is { } server && server > TimeSpan.Zero && server < TimeSpan.FromMinutes(1) ? server : _pollInterval;
            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
        }

        return _value ?? throw new InvalidOperationException($"The operation to {_action} finished without a result.");
    }

    private static string? ReadStatus(Response response)
    {
        try
        {
            if (response.Content is null || response.Content.ToMemory().IsEmpty) return null;
            using var document = JsonDocument.Parse(response.Content.ToMemory());
            return ArmJson.Str(document.RootElement, "status")
                ?? (ArmJson.Prop(document.RootElement, "properties") is { } properties ? ArmJson.Str(properties, "provisioningState") : null);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
