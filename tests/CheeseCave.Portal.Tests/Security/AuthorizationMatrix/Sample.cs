using System.Net;

namespace CheeseCave.Portal.Tests.Security.AuthorizationMatrix;

/// <param name="BearerOnly">An API endpoint that takes personal API tokens only: every cookie caller gets 401 (Login).</param>
/// <param name="Owner">Set for another user's material: the only caller allowed; other allowed roles get <see cref="Outcome.NotOwner"/>.</param>
public sealed record Sample(string Method, string Path, Access Least, HttpStatusCode? AllowedStatus = null, Caller? Owner = null, bool BearerOnly = false);
