using System.Net;

namespace CheeseCave.Portal.Tests.Security.AuthorizationMatrix;

public sealed record PageRule(Access Least, HttpStatusCode? AllowedStatus = null);
