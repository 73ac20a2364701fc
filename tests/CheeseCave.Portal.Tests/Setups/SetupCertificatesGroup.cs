using CheeseCave.Portal.Tests.Infrastructure;

namespace CheeseCave.Portal.Tests.Setups;

/// <summary>
/// The CA generation, CA download and one-click proof tests were one class with one portal (a class fixture): as a
/// collection they still share that portal and still run one after another.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SetupCertificatesGroup : ICollectionFixture<PortalFactory>
{
    public const string Name = "Setup certificates";
}
