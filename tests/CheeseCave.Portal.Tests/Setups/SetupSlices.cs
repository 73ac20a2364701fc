using CheeseCave.Portal.Setups.Allocation;
using CheeseCave.Portal.Setups.CertificateAuthority;
using CheeseCave.Portal.Setups.Devices;
using CheeseCave.Portal.Setups.Dps;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Setups.Hubs;
using CheeseCave.Portal.Setups.KeyExport;
using CheeseCave.Portal.Setups.Overview;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Portal.Setups.ProofOfPossession;
using CheeseCave.Portal.Setups.TestRegistration;
using CheeseCave.Portal.Setups.Upload;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups;

/// <summary>
/// The setup slices' handlers of one DI scope, by step, so a test drives each step the way its page does
/// (<c>slices.Dps.CreateDpsAsync(...)</c>). Nothing here decides anything: every call is the real handler's.
/// </summary>
public sealed class SetupSlices(IServiceProvider services)
{
    public SetupPipeline Pipeline => services.GetRequiredService<SetupPipeline>();

    public SetupOverviewHandler Setups => services.GetRequiredService<SetupOverviewHandler>();

    public DpsHandler Dps => services.GetRequiredService<DpsHandler>();

    public HubsHandler Hubs => services.GetRequiredService<HubsHandler>();

    public AllocationHandler Allocation => services.GetRequiredService<AllocationHandler>();

    public CaGenerationHandler CaGeneration => services.GetRequiredService<CaGenerationHandler>();

    public CaImportHandler CaImport => services.GetRequiredService<CaImportHandler>();

    public CaCertificateDownloads CaDownloads => services.GetRequiredService<CaCertificateDownloads>();

    public UploadHandler Upload => services.GetRequiredService<UploadHandler>();

    public OneClickProofHandler OneClickProof => services.GetRequiredService<OneClickProofHandler>();

    public ManualProofHandler ManualProof => services.GetRequiredService<ManualProofHandler>();

    public VerificationDownloads VerificationDownloads => services.GetRequiredService<VerificationDownloads>();

    public EnrollmentHandler Enrollment => services.GetRequiredService<EnrollmentHandler>();

    public DeviceIssuanceHandler Devices => services.GetRequiredService<DeviceIssuanceHandler>();

    public DeviceDownloadsHandler DeviceDownloads => services.GetRequiredService<DeviceDownloadsHandler>();

    public TestRegistrationHandler Testing => services.GetRequiredService<TestRegistrationHandler>();

    public KeyExportHandler KeyExports => services.GetRequiredService<KeyExportHandler>();

    /// <summary>How often a long-running ARM create is polled (tests poll fast).</summary>
    public TimeSpan PollInterval
    {
        get => Pipeline.PollInterval;
        set => Pipeline.PollInterval = value;
    }

    /// <summary>Gives a bUnit context this scope's handlers, so the components use the same ones as the test.</summary>
    public void RegisterIn(IServiceCollection target)
    {
        ArgumentNullException.ThrowIfNull(target);
        target.AddSingleton(Pipeline).AddSingleton(Setups).AddSingleton(Dps).AddSingleton(Hubs).AddSingleton(Allocation)
            .AddSingleton(CaGeneration).AddSingleton(CaImport).AddSingleton(CaDownloads).AddSingleton(Upload)
            .AddSingleton(OneClickProof).AddSingleton(ManualProof).AddSingleton(VerificationDownloads).AddSingleton(Enrollment)
            .AddSingleton(Devices).AddSingleton(DeviceDownloads).AddSingleton(Testing).AddSingleton(KeyExports);
    }
}
