namespace CheeseCave.Emulator.Service;

/// <summary>Enrollment groups and individual enrollments differ in their id field, their nouns and a few rules.</summary>
internal sealed class EnrollmentKind
{
    public static readonly EnrollmentKind Group = new(true, "enrollmentGroupId", "enrollment group", "EnrollmentGroup", ErrorCodes.InvalidEnrollmentGroupId);

    public static readonly EnrollmentKind Individual = new(false, "registrationId", "individual enrollment", "Enrollment", ErrorCodes.InvalidRegistrationId);

    private EnrollmentKind(bool isGroup, string idField, string noun, string itemType, int invalidIdCode)
    {
        IsGroup = isGroup;
        IdField = idField;
        Noun = noun;
        ItemType = itemType;
        InvalidIdCode = invalidIdCode;
    }

    public bool IsGroup { get; }

    /// <summary>The JSON property holding the id: enrollmentGroupId or registrationId.</summary>
    public string IdField { get; }

    public string Noun { get; }

    /// <summary>The x-ms-item-type of query pages.</summary>
    public string ItemType { get; }

    public int InvalidIdCode { get; }
}

/// <summary>How much of a stored enrollment a response shows.</summary>
internal enum EnrollmentView
{
    /// <summary>GET and query: symmetric keys are masked (null), as on Azure, where only attestationmechanism returns them.</summary>
    Masked,

    /// <summary>The PUT response: symmetric keys included (Azure returns generated keys on create).</summary>
    WithKeys,
}
