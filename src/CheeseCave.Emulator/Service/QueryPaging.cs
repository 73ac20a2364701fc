using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace CheeseCave.Emulator.Service;

/// <summary>One row of a query: its sort key (the lower-cased id) and how to render it.</summary>
internal readonly record struct PageItem(string SortKey, Func<JsonNode> Render);

/// <summary>
/// The service API's query paging: x-ms-max-item-count asks for a page size, x-ms-continuation carries the opaque
/// token of the previous page, and the response has x-ms-continuation only when more pages exist (the Node SDK's
/// Query sets hasMoreResults = continuationToken !== undefined). Rows are ordered by id, and a token means "after
/// this id", so rows added or removed between pages never repeat or shift others.
/// </summary>
internal static class QueryPaging
{
    public const string ContinuationHeader = "x-ms-continuation";
    public const string MaxItemCountHeader = "x-ms-max-item-count";
    public const string ItemTypeHeader = "x-ms-item-type";

    private const string TokenVersion = "v1";

    /// <param name="scope">Which query the token belongs to (item type, DPS, group), so a token from another query is refused.</param>
    public static IResult Page(HttpContext http, IEnumerable<PageItem> items, string itemType, string scope)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(items);
        var size = ServiceEndpoints.DefaultPageSize;
        var requested = http.Request.Headers[MaxItemCountHeader].ToString().Trim();
        if (requested.Length > 0)
        {
            if (!int.TryParse(requested, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size < 1)
            {
                return ServiceErrors.InvalidMaxItemCount(MaxItemCountHeader, requested, ServiceEndpoints.DefaultPageSize).ToResult(http);
            }

            size = Math.Min(size, ServiceEndpoints.MaxPageSize);
        }

        string? after = null;
        var token = http.Request.Headers[ContinuationHeader].ToString().Trim();
        if (token.Length > 0 && !TryDecode(token, scope, out after))
        {
            return ServiceErrors.InvalidContinuationToken(ContinuationHeader).ToResult(http);
        }

        var page = items.Where(i => after is null || string.CompareOrdinal(i.SortKey, after) > 0)
            .OrderBy(i => i.SortKey, StringComparer.Ordinal)
            .Take(size + 1)
            .ToList();
        var more = page.Count > size;
        if (more) page.RemoveAt(page.Count - 1);
        var headers = http.Response.Headers;
        headers[ItemTypeHeader] = itemType;
        headers[MaxItemCountHeader] = size.ToString(CultureInfo.InvariantCulture);
        if (more)
        {
            headers[ContinuationHeader] = Encode(scope, page[^1].SortKey);
        }

        return Results.Json(new JsonArray([.. page.Select(i => i.Render())]));
    }

    internal static string Encode(string scope, string lastKey) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{TokenVersion}\n{scope.ToLowerInvariant()}\n{lastKey}"));

    internal static bool TryDecode(string token, string scope, out string? lastKey)
    {
        lastKey = null;
        string text;
        try
        {
            text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
        }
        catch (FormatException)
        {
            return false;
        }

        var parts = text.Split('\n');
        if (parts.Length != 3 || parts[0] != TokenVersion || !parts[1].Equals(scope, StringComparison.OrdinalIgnoreCase) || parts[2].Length == 0) return false;
        lastKey = parts[2];
        return true;
    }
}
