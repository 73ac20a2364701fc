using System.Text.Json;

namespace CheeseCave.Portal.Automation;

/// <summary>
/// RFC 7807 problem details for the API: <c>title</c> says what went wrong in one sentence, <c>detail</c> what to do,
/// <c>status</c> the HTTP status. Written directly so the authentication handler and the endpoints answer alike.
/// </summary>
public static class ApiProblemWriter
{
    public const string ContentType = "application/problem+json";

    public static Task WriteAsync(HttpContext context, int status, string title, string detail)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.StatusCode = status;
        context.Response.ContentType = ContentType;
        return context.Response.WriteAsync(JsonSerializer.Serialize(new ApiProblem(Type(status), title, status, detail)), context.RequestAborted);
    }

    public static IResult Result(int status, string title, string detail) =>
        Results.Json(new ApiProblem(Type(status), title, status, detail), (JsonSerializerOptions?)null, ContentType, status);

    public static IResult From(PortalError error, int status)
    {
        ArgumentNullException.ThrowIfNull(error);
        return Result(status, error.Message, error.WhatToDo);
    }

    private static string Type(int status) => $"https://httpstatuses.io/{status}";
}

/// <summary>The problem details body (lower-case names as RFC 7807 spells them).</summary>
public sealed record ApiProblem(
    [property: System.Text.Json.Serialization.JsonPropertyName("type")] string Type,
    [property: System.Text.Json.Serialization.JsonPropertyName("title")] string Title,
    [property: System.Text.Json.Serialization.JsonPropertyName("status")] int Status,
    [property: System.Text.Json.Serialization.JsonPropertyName("detail")] string Detail);
