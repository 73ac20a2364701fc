using System.Globalization;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;

namespace CheeseCave.Portal.Hosting;

/// <summary>
/// Bad requests answer with their own status, never a 500: a missing antiforgery token is a 400, a form over its
/// limits a 413, and a body larger than the endpoint accepts gets a readable 413 instead of a connection closed
/// mid-upload.
/// </summary>
public static class RequestRejections
{
    /// <summary>Bodies up to this size are read and discarded after a 413, so the client reads the answer.</summary>
    public const long DrainLimit = 64L * 1024 * 1024;

    public const string FormTooLargeMessage = "The form is too large (too many fields, or a field or file over the limit). Shorten it, then try again.";

    public static string TooLargeMessage(long limitBytes) => string.Create(CultureInfo.InvariantCulture,
        $"The request is too large: this page accepts at most {limitBytes / 1024:N0} KB. Choose a smaller file or shorten the text, then try again.");

    /// <summary>The status code the exception handler answers with (UseExceptionHandler answers 500 otherwise).</summary>
    public static int StatusCodeFor(Exception exception) => exception switch
    {
        BadHttpRequestException bad => bad.StatusCode,
        AntiforgeryValidationException => StatusCodes.Status400BadRequest,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>
    /// The error and status pages are re-executed with the failed request's method; as a POST, antiforgery would check
    /// the same rejected form again and throw (a 500). These pages only show a message, so they run as a GET.
    /// </summary>
    public static Task ShowErrorPagesAsGetAsync(HttpContext context, Func<Task> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);

        if (context.Features.Get<IExceptionHandlerFeature>() is not null || context.Features.Get<IStatusCodeReExecuteFeature>() is not null)
        {
            context.Request.Method = HttpMethods.Get;
        }

        return next();
    }

    /// <summary>
    /// Answers a body whose declared length is over the endpoint's limit before anything reads it. Kestrel would cut
    /// the connection at the first read, and a browser still uploading then sees a reset instead of the answer, so
    /// the rest of the body (up to <see cref="DrainLimit"/>) is read and thrown away after the answer is written.
    /// </summary>
    public static async Task RejectOversizedBodiesAsync(HttpContext context, Func<Task> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);

        // Routing has already applied the endpoint's own limit (RequestSizeLimit metadata) to this feature.
        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        var limit = sizeFeature?.MaxRequestBodySize;
        if (context.Request.ContentLength is not { } length || limit is null || length <= limit)
        {
            if (await FormWithinLimitsAsync(context).ConfigureAwait(false))
            {
                await next().ConfigureAwait(false);
            }

            return;
        }

        await AnswerTooLargeAsync(context, TooLargeMessage(limit.Value)).ConfigureAwait(false);

        if (length <= DrainLimit && sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = DrainLimit;
            try
            {
                await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or BadHttpRequestException)
            {
                // The client gave up or sent less than it declared: nothing more to answer.
            }
        }
    }

    /// <summary>
    /// Reads a posted form here, where a form over FormOptions' limits (one value over 4 MB, over 1,024 fields, a file
    /// part over the endpoint's limit) can be answered with a 413; read later by antiforgery or the sign-in limiter it
    /// would end as "invalid antiforgery token" or a 500. The form is buffered, so later readers get the same values.
    /// </summary>
    private static async Task<bool> FormWithinLimitsAsync(HttpContext context)
    {
        // Once antiforgery has looked at the request (an error page re-executing it), the form is its business.
        if (!HttpMethods.IsPost(context.Request.Method) || context.Features.Get<IAntiforgeryValidationFeature>() is not null
            || !context.Request.HasFormContentType)
        {
            return true;
        }

        try
        {
            await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
            return true;
        }
        catch (InvalidDataException)
        {
            await AnswerTooLargeAsync(context, FormTooLargeMessage).ConfigureAwait(false);
            return false;
        }
    }

    private static async Task AnswerTooLargeAsync(HttpContext context, string message)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status413PayloadTooLarge;
        response.ContentType = "text/plain; charset=utf-8";
        await response.WriteAsync(message, context.RequestAborted).ConfigureAwait(false);
        await response.CompleteAsync().ConfigureAwait(false);
    }
}
