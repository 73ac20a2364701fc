namespace CheeseCave.Portal.Setups.Pipeline;

/// <summary>How the slices' download endpoints answer: the file, or the status that says why not.</summary>
public static class FileResults
{
    /// <summary>
    /// The file (with <c>Cache-Control: no-store</c> when it is key material); otherwise 403 for a refused role, a plain
    /// 403 naming whose it is (allowed role, not the owner), 410 once a download window has closed, else 404.
    /// </summary>
    public static IResult From(PortalResult<CertificateFile> result, HttpContext context, bool secret = false, int notFound = StatusCodes.Status404NotFound)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(context);
        if (result.Value is { } file)
        {
            if (secret)
            {
                // Key material must not linger in caches.
                context.Response.Headers.CacheControl = "no-store";
            }

            return Results.File(file.Content, file.ContentType, file.FileName);
        }

        return result.Error switch
        {
            { Denied: true } => Results.Forbid(),
            { Status: 403 } error => Results.Text($"{error.Message} {error.WhatToDo}", "text/plain; charset=utf-8", statusCode: StatusCodes.Status403Forbidden),
            { Status: 410 } => Results.StatusCode(StatusCodes.Status410Gone),
            _ => Results.StatusCode(notFound),
        };
    }
}
