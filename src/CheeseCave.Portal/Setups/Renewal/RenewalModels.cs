using CheeseCave.Portal.Setups.Devices;

namespace CheeseCave.Portal.Setups.Renewal;

/// <summary>
/// What a renewal returns: the new certificate (same registration id), the one it replaced, and, when the portal made
/// the key, the PFX password, shown once and kept nowhere (null for a CSR: the key never left the device).
/// </summary>
public sealed record DeviceRenewalView(SetupDeviceView Device, int RenewedDeviceId, string? PfxPassword, DateTimeOffset? KeysAvailableUntil, bool IndividualEnrollmentUpdated, IReadOnlyList<string> Warnings);
