namespace CheeseCave.Emulator.Service;

/// <summary>Carries a validation error out of the nested checks of <see cref="EnrollmentValidator"/>.</summary>
internal sealed class ServiceErrorException(ServiceError error) : Exception(error.Message)
{
    public ServiceError Error { get; } = error;
}
