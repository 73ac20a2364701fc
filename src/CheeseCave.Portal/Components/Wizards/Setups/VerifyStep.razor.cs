using System.Security.Claims;
using CheeseCave.Portal.Setups;
using CheeseCave.Portal.Setups.CertificateAuthority;
using CheeseCave.Portal.Setups.Operations;
using CheeseCave.Portal.Setups.ProofOfPossession;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;

namespace CheeseCave.Portal.Components.Wizards.Setups;

/// <summary>Step 7: proof of possession, in one click (the portal holds the key) or by hand (the commands, the code, the certificate checked before it is sent).</summary>
public sealed partial class VerifyStep
{
    [Parameter, EditorRequired]
    public SetupView View { get; set; } = default!;

    [Parameter, EditorRequired]
    public ClaimsPrincipal User { get; set; } = default!;

    [Parameter]
    public EventCallback<int?> OnChanged { get; set; }

    private bool _loading;
    private readonly StepAction _action;
    private PortalError? _loadError;
    private ProofView? _proof;
    private byte[]? _file;
    private string? _fileName;
    private string? _pasted;

    public VerifyStep() => _action = new StepAction(StateHasChanged);

    private bool Busy => _action.IsBusy;

    protected override Task OnParametersSetAsync() => LoadAsync();

    /// <summary>The CA's state and the current code come from the DPS and the server on every visit: nothing lives only in the browser.</summary>
    private async Task LoadAsync()
    {
        if (View.Root is not { DpsCertificateName: not null })
        {
            return;
        }

        _loading = true;
        try
        {
            var result = await ManualProof.GetProofAsync(User, View.Id);
            (_proof, _loadError) = (result.Value, result.Error);
        }
        finally
        {
            _loading = false;
        }
    }

    private SetupOperationWatch? _watch;

    /// <summary>One click runs apart from this circuit (SetupOperations): a reload or a closed tab does not stop it.</summary>
    private async Task VerifyAsync()
    {
        var start = await Operations.StartAsync<OneClickProofHandler, SetupCertificateView>(User, View.Id, SetupOperationKind.VerifyCa, View.Root?.DpsCertificateName ?? "the CA",
            (oneClickProof, progress, cancellationToken) => oneClickProof.VerifyCaAsync(User, View.Id, progress, cancellationToken));
        _action.Show(start.Refused, VerifyAsync);
    }

    private async Task VerifyChangedAsync(SetupOperationStatus status)
    {
        if (status.IsRunning)
        {
            return;
        }

        _action.Show(status.Error, VerifyAsync);
        if (status.Error is null)
        {
            await OnChanged.InvokeAsync(null); // the parent's fresh View reloads the proof state (OnParametersSetAsync)
        }
    }

    private async Task GenerateCodeAsync()
    {
        await _action.RunAsync("Asking DPS for a verification code…", async _ =>
        {
            var result = await ManualProof.GenerateVerificationCodeAsync(User, View.Id);
            _proof = result.Value ?? _proof;
            return result.Error;
        });
    }

    private async Task FileChosenAsync(InputFileChangeEventArgs e)
    {
        _action.Show(null);
        _file = null;
        var file = e.File;
        if (file.Size > CaImportLimits.MaxFileBytes)
        {
            _action.Show(new PortalError(CaImportLimits.TooLarge("verification certificate", file.Size), $"Choose {VerificationCommands.OutputFile}, a file of a few kilobytes."));
            return;
        }

        await using var stream = file.OpenReadStream(CaImportLimits.MaxFileBytes);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        (_file, _fileName) = (buffer.ToArray(), file.Name);
    }

    private async Task SubmitAsync()
    {
        if (_file is null && _pasted?.Length >= CaImportLimits.MaxPasteChars)
        {
            _action.Show(new PortalError(CaImportLimits.PasteTooLarge(_pasted.Length), "Choose the file instead; a verification certificate is about one kilobyte."), SubmitAsync);
            return;
        }

        var bytes = _file ?? System.Text.Encoding.UTF8.GetBytes(_pasted ?? "");
        var sent = await _action.RunAsync("Checking the certificate and sending it to DPS…", async _ =>
        {
            var result = await ManualProof.SubmitVerificationCertificateAsync(User, View.Id, new ManualProofRequest(bytes));
            _proof = result.Value ?? _proof;
            return result.Error;
        });
        if (sent)
        {
            await OnChanged.InvokeAsync(null);
        }
    }
}
