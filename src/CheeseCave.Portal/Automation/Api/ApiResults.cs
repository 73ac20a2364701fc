using CheeseCave.Portal.Approvals;

namespace CheeseCave.Portal.Automation.Api;

/// <summary>Turns the portal's results into API answers: the value, 202 for a request waiting for approval, or a problem.</summary>
internal static class ApiResults
{
    public static IResult Of<T>(PortalResult<T> result, Func<T, IResult> ok)
    {
        if (result.Pending is { } ticket)
        {
            return Results.Json(Pending(ticket), statusCode: StatusCodes.Status202Accepted);
        }

        return result.Error is { } error ? Problem(error) : ok(result.Value!);
    }

    public static PendingApproval Pending(ApprovalTicket ticket)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        return new(ticket.RequestId, ApprovalStatus.Pending.ToString(), ticket.Title, ticket.ExpiresAt, $"/api/v1/approvals/{ticket.RequestId}", "/" + ticket.Href);
    }

    public static IResult Problem(PortalError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var status = error switch
        {
            { Denied: true } => StatusCodes.Status403Forbidden,
            _ when ReferenceEquals(error, PortalError.NotFound) => StatusCodes.Status404NotFound,
            { Status: >= 400 and < 500 } => error.Status.Value,
            { Status: >= 500 } or { IsTransient: true } => StatusCodes.Status502BadGateway,
            _ => StatusCodes.Status400BadRequest,
        };
        return ApiProblemWriter.From(error, status);
    }

    public static ApprovalStatusView Status(ApprovalView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var approvers = view.Decisions.Where(d => d.Approved).Select(d => d.Approver).ToList();
        var link = view.Outcome?.Link;
        // The grant an approved grant request created is an API resource too; other outcomes link to pages.
        var resultUrl = link is not null && link.StartsWith("grants/", StringComparison.Ordinal) ? "/api/v1/" + link : link is null ? null : "/" + link;
        return new(view.Id, view.Action.ToString(), view.SetupId, view.Title, view.Status.ToString(), view.RequestedBy, view.RequestedAt, view.ExpiresAt,
            view.Approvals, view.RequiredApprovals, approvers, view.Outcome?.Text, resultUrl, view.Error);
    }
}
