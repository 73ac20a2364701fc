namespace CheeseCave.Portal.Tests.Components.Wizards.Setups;

/// <summary>
/// The wizard shell, error alert and endpoints step tests were one class: as a collection they still run one after
/// another (no fixture: they need no portal).
/// </summary>
[CollectionDefinition(Name)]
public sealed class WizardComponentsGroup
{
    public const string Name = "Wizard components";
}
