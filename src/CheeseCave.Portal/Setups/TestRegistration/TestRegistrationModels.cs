namespace CheeseCave.Portal.Setups.TestRegistration;

/// <summary>The outcome of a test registration: the assignment, or the error with DPS's diagnosis and what to do.</summary>
public sealed record TestRegistrationView(
    string RegistrationId,
    string Transport,
    bool Assigned,
    string Status,
    string? AssignedHub,
    string? DeviceId,
    string? Substatus,
    string? ErrorCode,
    string? ErrorMessage,
    string? Reason,
    string? Hint,
    string? Missing,
    string WhatToDo)
{
    /// <summary>After an assignment: the device on its hub (connect, telemetry, twin); null when it was not assigned.</summary>
    public HubCheckView? Hub { get; init; }
}

/// <summary>What the test device did on its hub after the assignment: connect, send telemetry, read its twin, each one line.</summary>
public sealed record HubCheckView(string HubHost, string Endpoint, IReadOnlyList<HubCheckLine> Lines)
{
    public bool Succeeded => Lines.Count > 0 && Lines.All(l => l.State == HubCheckState.Succeeded);
}

/// <summary>One thing the test device did on its hub, with its outcome in plain words and, when it failed, what to do.</summary>
public sealed record HubCheckLine(HubCheckStep Step, HubCheckState State, string Title, string Detail, string? WhatToDo = null, string? Json = null);

public enum HubCheckStep
{
    Connect,
    Telemetry,
    Twin,
}

public enum HubCheckState
{
    Succeeded,
    Failed,

    /// <summary>Not tried because an earlier line failed.</summary>
    Skipped,
}

/// <summary>The audit actions of step 10 besides the registration itself.</summary>
public static class TestRegistrationAuditActions
{
    /// <summary>The test device connected to its hub, sent telemetry and read its twin (or failed to).</summary>
    public const string HubCheck = "dps-setup.test-hub";
}
