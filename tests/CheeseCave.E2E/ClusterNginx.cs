using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace CheeseCave.E2E;

/// <summary>
/// Debian's nginx in front of several portal instances, terminating TLS and forwarding WebSockets (the Blazor circuit),
/// with affinity: a browser stays on one instance. Production setups pin by a hash of the client address or of a
/// cookie (docs/operations.md); here a cookie names the instance (<c>cc_instance=a</c>), so a test can put two
/// browsers on two chosen instances behind one address.
/// </summary>
public sealed class ClusterNginx : IAsyncDisposable
{
    public const string AffinityCookie = "cc_instance";

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "cheesecave-cluster-nginx-" + Guid.NewGuid().ToString("N"));
    private Process? _nginx;

    public static string? Executable { get; } = new[] { "/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx" }.FirstOrDefault(File.Exists);

    public Uri Address { get; private set; } = null!;

    /// <summary>Starts nginx routing cookie value → instance port (the first entry is the default).</summary>
    public static async Task<ClusterNginx> StartAsync(IReadOnlyList<(string Name, int Port)> instances)
    {
        ArgumentNullException.ThrowIfNull(instances);
        var executable = Executable ?? throw new InvalidOperationException("nginx is not installed (tests/run.sh installs Debian's nginx-light): apt-get install -y nginx-light");
        var nginx = new ClusterNginx();
        Directory.CreateDirectory(nginx._folder);
        using (var key = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllTextAsync(Path.Combine(nginx._folder, "cert.pem"), certificate.ExportCertificatePem());
            await File.WriteAllTextAsync(Path.Combine(nginx._folder, "key.pem"), key.ExportPkcs8PrivateKeyPem());
        }

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        nginx.Address = new Uri($"https://127.0.0.1:{port}/");
        var configuration = Path.Combine(nginx._folder, "nginx.conf");
        await File.WriteAllTextAsync(configuration, nginx.Configuration(port, instances));
        nginx._nginx = Process.Start(new ProcessStartInfo(executable, ["-p", nginx._folder, "-c", configuration, "-e", Path.Combine(nginx._folder, "error.log")])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;

        while (true)
        {
            if (nginx._nginx.HasExited)
            {
                throw new InvalidOperationException($"nginx exited with {nginx._nginx.ExitCode}: {await nginx._nginx.StandardError.ReadToEndAsync()}");
            }

            using var probe = new TcpClient();
            try
            {
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return nginx;
            }
            catch (SocketException)
            {
                await Task.Yield();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_nginx is { HasExited: false })
        {
            _nginx.Kill();
            await _nginx.WaitForExitAsync();
        }

        _nginx?.Dispose();
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private string Configuration(int port, IReadOnlyList<(string Name, int Port)> instances)
    {
        var folder = _folder;
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"daemon off; master_process off; worker_processes 1; pid {folder}/nginx.pid; error_log {folder}/error.log;");
        text.AppendLine("events { worker_connections 256; }");
        text.AppendLine("http {");
        text.AppendLine(CultureInfo.InvariantCulture, $"  access_log off; client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy;");
        text.AppendLine(CultureInfo.InvariantCulture, $"  fastcgi_temp_path {folder}/fastcgi; uwsgi_temp_path {folder}/uwsgi; scgi_temp_path {folder}/scgi;");
        text.AppendLine("  map $http_upgrade $connection_upgrade { default upgrade; '' close; }");
        text.AppendLine(CultureInfo.InvariantCulture, $"  map $cookie_{AffinityCookie} $portal {{");
        text.AppendLine(CultureInfo.InvariantCulture, $"    default 127.0.0.1:{instances[0].Port};");
        foreach (var (name, instancePort) in instances)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"    {name} 127.0.0.1:{instancePort};");
        }

        text.AppendLine("  }");
        text.AppendLine("  server {");
        text.AppendLine(CultureInfo.InvariantCulture, $"    listen 127.0.0.1:{port} ssl;");
        text.AppendLine(CultureInfo.InvariantCulture, $"    ssl_certificate {folder}/cert.pem; ssl_certificate_key {folder}/key.pem;");
        text.AppendLine("    location / {");
        text.AppendLine("      proxy_pass http://$portal;");
        text.AppendLine("      proxy_http_version 1.1;");
        text.AppendLine("      proxy_set_header Host $http_host;");
        text.AppendLine("      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;");
        text.AppendLine("      proxy_set_header X-Forwarded-Proto $scheme;");
        text.AppendLine("      proxy_set_header Upgrade $http_upgrade;");
        text.AppendLine("      proxy_set_header Connection $connection_upgrade;");
        text.AppendLine("      proxy_read_timeout 1h;");
        text.AppendLine("    }");
        text.AppendLine("  }");
        text.AppendLine("}");
        return text.ToString();
    }
}
