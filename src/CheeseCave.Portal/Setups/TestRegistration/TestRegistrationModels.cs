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
    string WhatToDo);
