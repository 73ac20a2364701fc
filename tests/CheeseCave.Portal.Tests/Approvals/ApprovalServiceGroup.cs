using CheeseCave.Portal.Tests.Infrastructure;

namespace CheeseCave.Portal.Tests.Approvals;

/// <summary>
/// The approval service, approved changes and approval options tests were one class with one portal (a class
/// fixture): as a collection they still share that portal and still run one after another.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ApprovalServiceGroup : ICollectionFixture<ApprovalTestPortal>
{
    public const string Name = "Approval service";
}
