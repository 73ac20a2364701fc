using System.Net;

namespace CheeseCave.Portal.Tests.Security.AuthorizationMatrix;

/// <summary>The authorization matrix's page table, checked by <see cref="AuthorizationMatrixTests"/>.</summary>
internal static class PageRows
{
    /// <summary>Page routes (the @page templates) and the least access that opens them.</summary>
    public static Dictionary<string, PageRule> All { get; } = new(StringComparer.Ordinal)
    {
        ["/"] = new(Access.Viewer),
        ["/account/login"] = new(Access.Public),
        ["/account/access-denied"] = new(Access.Public),
        ["/setup/{Token}"] = new(Access.Public),
        ["/invite/{Token}"] = new(Access.Public),
        ["/error"] = new(Access.Public),
        ["/not-found"] = new(Access.SignedIn),
        ["/admin/users"] = new(Access.Administrator),
        ["/audit"] = new(Access.Approver),
        ["/approvals"] = new(Access.Viewer),
        ["/approvals/{Id:int}"] = new(Access.Viewer),
        ["/certificates/devices/{Id:int}"] = new(Access.Viewer),
        ["/certificates/cas/{Id:int}"] = new(Access.Viewer),
        ["/setups"] = new(Access.Viewer),
        ["/setups/{Id:int}"] = new(Access.Viewer, AllowedStatus: HttpStatusCode.Redirect), // resumes at the current step
        ["/setups/{Id:int}/{Step}"] = new(Access.Viewer),
        ["/setups/{Id:int}/rollover"] = new(Access.Viewer),
        ["/setups/{Id:int}/hubs/{Hub}/devices"] = new(Access.Viewer),
        ["/account"] = new(Access.Viewer),
        ["/grants"] = new(Access.Viewer),
        ["/grants/{Id:int}"] = new(Access.Viewer),
        ["/certificates"] = new(Access.Viewer),
    };
}
