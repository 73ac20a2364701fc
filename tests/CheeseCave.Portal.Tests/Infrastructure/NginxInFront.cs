using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace CheeseCave.Portal.Tests.Infrastructure;

/// <summary>Runs the test only where Debian's nginx is installed (tests/run.sh installs it); otherwise skipped with the reason.</summary>
public sealed class NginxFactAttribute : FactAttribute
{
    public NginxFactAttribute()
    {
        if (NginxInFront.Executable is null)
        {
            Skip = "nginx is not installed (tests/run.sh installs Debian's nginx-light): apt-get install -y nginx-light";
        }
    }
}

/// <summary>
/// The portal in production mode behind a real nginx on loopback that terminates TLS (with the portal's test
/// certificate) and forwards X-Forwarded-For and X-Forwarded-Proto, the way the deployment docs configure it. The
/// portal trusts 127.0.0.1 (nginx) as its proxy; clients connect to nginx from other loopback addresses.
/// </summary>
public sealed class NginxInFront : IAsyncLifetime
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "cheesecave-nginx-" + Guid.NewGuid().ToString("N"));
    private Process? _nginx;

    public static string? Executable { get; } = new[] { "/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx" }.FirstOrDefault(File.Exists);

    public ProductionPortal Portal { get; } = new();

    /// <summary>https://127.0.0.1:port/ served by nginx.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>A client of nginx whose connections come from <paramref name="clientAddress"/> (e.g. 127.0.0.2).</summary>
    public HttpClient ClientFrom(string clientAddress) =>
        Portal.CreateRealClient(baseAddress: Address, connect: async (context, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(IPAddress.Parse(clientAddress), 0));
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        });

    public async Task InitializeAsync()
    {
        Portal.Settings["CheeseCave:ReverseProxy:KnownProxies:0"] = "127.0.0.1";
        Portal.Settings["CheeseCave:SignInRateLimit:PerAddress"] = "3";
        await ((IAsyncLifetime)Portal).InitializeAsync();
        if (Executable is null)
        {
            return; // the tests are skipped
        }

        Directory.CreateDirectory(_folder);
        await File.WriteAllTextAsync(Path.Combine(_folder, "cert.pem"), Portal.Certificate.ExportCertificatePem());
        using (var key = Portal.Certificate.GetECDsaPrivateKey()!)
        {
            await File.WriteAllTextAsync(Path.Combine(_folder, "key.pem"), key.ExportPkcs8PrivateKeyPem());
        }

        var port = LoopbackPorts.Free();
        Address = new Uri($"https://127.0.0.1:{port}/");
        var configuration = Path.Combine(_folder, "nginx.conf");
        await File.WriteAllTextAsync(configuration, Configuration(port, Portal.HttpAddress.Port));

        _nginx = Process.Start(new ProcessStartInfo(Executable, ["-p", _folder, "-c", configuration, "-e", Path.Combine(_folder, "error.log")])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;

        // Ready when nginx accepts connections; if it exits first, say why.
        while (true)
        {
            if (_nginx.HasExited)
            {
                throw new InvalidOperationException($"nginx exited with {_nginx.ExitCode}: {await _nginx.StandardError.ReadToEndAsync()} {ErrorLog()}");
            }

            using var probe = new TcpClient();
            try
            {
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Yield();
            }
        }
    }

    public async Task DisposeAsync()
    {
        if (_nginx is { HasExited: false })
        {
            _nginx.Kill();
            await _nginx.WaitForExitAsync();
        }

        _nginx?.Dispose();
        await ((IAsyncLifetime)Portal).DisposeAsync();
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private string ErrorLog() => File.Exists(Path.Combine(_folder, "error.log")) ? File.ReadAllText(Path.Combine(_folder, "error.log")) : "";

    private string Configuration(int port, int portalPort)
    {
        var folder = _folder;
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"daemon off; master_process off; worker_processes 1; pid {folder}/nginx.pid; error_log {folder}/error.log;");
        text.AppendLine("events { worker_connections 64; }");
        text.AppendLine("http {");
        text.AppendLine(CultureInfo.InvariantCulture, $"  access_log off; client_max_body_size 64m; client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy;");
        text.AppendLine(CultureInfo.InvariantCulture, $"  fastcgi_temp_path {folder}/fastcgi; uwsgi_temp_path {folder}/uwsgi; scgi_temp_path {folder}/scgi;");
        text.AppendLine("  map $http_upgrade $connection_upgrade { default upgrade; '' close; }");
        text.AppendLine("  server {");
        text.AppendLine(CultureInfo.InvariantCulture, $"    listen 127.0.0.1:{port} ssl;");
        text.AppendLine(CultureInfo.InvariantCulture, $"    ssl_certificate {folder}/cert.pem; ssl_certificate_key {folder}/key.pem;");
        text.AppendLine("    location / {");
        text.AppendLine(CultureInfo.InvariantCulture, $"      proxy_pass http://127.0.0.1:{portalPort};");
        text.AppendLine("      proxy_http_version 1.1;");
        text.AppendLine("      proxy_set_header Host $http_host;");
        text.AppendLine("      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;");
        text.AppendLine("      proxy_set_header X-Forwarded-Proto $scheme;");
        text.AppendLine("      proxy_set_header Upgrade $http_upgrade;");
        text.AppendLine("      proxy_set_header Connection $connection_upgrade;");
        text.AppendLine("    }");
        text.AppendLine("  }");
        text.AppendLine("}");
        return text.ToString();
    }
}
