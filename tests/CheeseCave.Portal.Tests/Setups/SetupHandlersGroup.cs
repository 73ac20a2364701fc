using CheeseCave.Portal.Tests.Infrastructure;

namespace CheeseCave.Portal.Tests.Setups;

/// <summary>
/// The overview, DPS and hub handler tests were one class with one portal (a class fixture): as a collection they
/// still share that portal and still run one after another.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SetupHandlersGroup : ICollectionFixture<PortalFactory>
{
    public const string Name = "Setup handlers";
}
