using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;

namespace CheeseCave.Emulator.Device;

/// <summary>
/// One device request as any transport delivers it: the ID scope and registration ID (from the URL or the MQTT
/// user name), the TLS client chain, the Authorization value (SAS) and the JSON body.
/// </summary>
internal sealed record DeviceRequest(string IdScope, string RegistrationId, PeerCertificates? Certificates, string? Authorization, JsonNode? Body = null);
