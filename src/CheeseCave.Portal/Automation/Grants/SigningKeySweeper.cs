namespace CheeseCave.Portal.Automation.Grants;

/// <summary>Closes open CA keys whose time in memory is up, once a minute, so an idle line's key does not linger.</summary>
public sealed class SigningKeySweeper(SigningCredentials credentials, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                credentials.Sweep();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
