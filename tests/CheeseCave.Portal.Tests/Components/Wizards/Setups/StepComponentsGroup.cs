using CheeseCave.Portal.Tests.Infrastructure;

namespace CheeseCave.Portal.Tests.Components.Wizards.Setups;

/// <summary>
/// The enrollment, devices and test step tests were one class with one portal (a class fixture): as a collection
/// they still share that portal and still run one after another.
/// </summary>
[CollectionDefinition(Name)]
public sealed class StepComponentsGroup : ICollectionFixture<PortalFactory>
{
    public const string Name = "Step components";
}
