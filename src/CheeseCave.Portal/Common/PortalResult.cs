using CheeseCave.Provisioning.Errors;

namespace CheeseCave.Portal.Common;

/// <summary>What went wrong and what to do, with the service's code and correlation id when Azure answered.</summary>
public sealed record PortalError(
    string Message,
    string WhatToDo,
    bool Denied = false,
    int? Status = null,
    string? ServiceCode = null,
    string? CorrelationId = null,
    bool IsTransient = false)
{
    public static PortalError NotAllowed(string action) =>
        new($"You are not allowed to {action}.", "Ask an administrator for the Operator role, or for a colleague with it to do this.", Denied: true);

    public static PortalError NotFound { get; } = new("This setup does not exist (any more).", "Go back to the list of setups and open or create one.");

    public static PortalError From(ProvisioningException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var whatToDo = exception switch
        {
            { IsTransient: true } => "This is usually temporary: wait a moment and try again.",
            { Status: 401 or 403 } => "Check that the portal's identity may manage this subscription and resource group.",
            { Status: 404 } => "Check the name and the resource group; the resource may have been deleted. Refresh the page to read it again.",
            { Status: 409 or 412 } => "Someone else changed it at the same time. Refresh the page and try again.",
            _ => "Check the values you entered and try again; if it keeps failing, give an administrator the code and correlation id.",
        };
        return new PortalError(exception.Message, whatToDo, false, exception.Status == 0 ? null : exception.Status,
            exception.ServiceErrorCode, exception.CorrelationId, exception.IsTransient);
    }
}

/// <summary>
/// An expected outcome: a value, or an error to show, or (when the installation wants four eyes) a request waiting
/// for approval instead of the change. Surprises still throw.
/// </summary>
public sealed record PortalResult<T>(T? Value, PortalError? Error, ApprovalTicket? Pending = null)
{
    public bool Succeeded => Error is null && Pending is null;

    public bool IsPending => Pending is not null;
}

public static class PortalResult
{
    public static PortalResult<T> Ok<T>(T value) => new(value, null);

    public static PortalResult<T> Fail<T>(PortalError error) => new(default, error);

    public static PortalResult<T> Waiting<T>(ApprovalTicket ticket) => new(default, null, ticket);
}
