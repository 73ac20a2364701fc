namespace CheeseCave.Cli.Tests;

/// <summary>
/// A folder shaped like the one certGen.sh leaves behind after create_root_and_intermediate,
/// create_verification_certificate and create_device_certificate: made here with the system openssl and the same
/// kinds of commands (genrsa -aes256 with password 1234, req -x509, openssl ca with a v3_ca / v3_intermediate_ca /
/// usr_cert configuration, pkcs12 -export with 1234), in this test's own words. The one deliberate difference:
/// RSA-2048 keys instead of certGen's 4096, to keep the suite quick. Built once; each test copies it.
/// </summary>
public sealed class CertGenFolderFixture : IDisposable
{
    public const string RootCn = "Azure IoT Hub CA Cert Test Only";

    // An OpenSSL "ca" configuration with certGen's extension sections (certificate extensions as certGen's
    // openssl_root_ca.cnf lists them: SKI hash, AKI keyid, CA:true without pathlen, the usr_cert client profile).
    private const string Configuration =
        """
        [ ca ]
        default_ca = ca_section
        [ ca_section ]
        dir = .
        new_certs_dir = ./newcerts
        database = ./index.txt
        serial = ./serial
        private_key = ./private/azure-iot-test-only.root.ca.key.pem
        certificate = ./certs/azure-iot-test-only.root.ca.cert.pem
        default_md = sha256
        default_days = 30
        policy = any_name
        copy_extensions = none
        [ any_name ]
        commonName = supplied
        [ req ]
        distinguished_name = req_name
        string_mask = utf8only
        default_md = sha256
        [ req_name ]
        commonName = Common Name
        [ v3_ca ]
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid:always,issuer
        basicConstraints = critical, CA:true
        keyUsage = critical, digitalSignature, cRLSign, keyCertSign
        [ v3_intermediate_ca ]
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid:always,issuer
        basicConstraints = critical, CA:true
        keyUsage = critical, digitalSignature, cRLSign, keyCertSign
        [ usr_cert ]
        basicConstraints = CA:FALSE
        nsCertType = client, email
        nsComment = "OpenSSL Generated Client Certificate"
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid,issuer
        keyUsage = critical, nonRepudiation, digitalSignature, keyEncipherment
        extendedKeyUsage = clientAuth, emailProtection
        """;

    public CertGenFolderFixture()
    {
        Folder = Path.Combine(Path.GetTempPath(), "cheesecave-certgen-" + Guid.NewGuid().ToString("N"));
        foreach (var sub in new[] { "certs", "private", "csr", "newcerts", "intermediateCerts" })
        {
            Directory.CreateDirectory(Path.Combine(Folder, sub));
        }

        File.WriteAllText(Path.Combine(Folder, "openssl_root_ca.cnf"), Configuration);
        File.WriteAllText(Path.Combine(Folder, "index.txt"), string.Empty);
        File.WriteAllText(Path.Combine(Folder, "serial"), "01\n");

        const string Root = "azure-iot-test-only.root.ca";
        const string Intermediate = "azure-iot-test-only.intermediate";
        OpenSsl.Ok(Folder, "genrsa", "-aes256", "-passout", "pass:1234", "-out", $"private/{Root}.key.pem", "2048");
        OpenSsl.Ok(Folder, "req", "-new", "-x509", "-config", "openssl_root_ca.cnf", "-passin", "pass:1234", "-key", $"private/{Root}.key.pem",
            "-subj", "/CN=" + RootCn, "-days", "30", "-sha256", "-extensions", "v3_ca", "-out", $"certs/{Root}.cert.pem");

        OpenSsl.Ok(Folder, "genrsa", "-aes256", "-passout", "pass:1234", "-out", $"private/{Intermediate}.key.pem", "2048");
        OpenSsl.Ok(Folder, "req", "-new", "-sha256", "-config", "openssl_root_ca.cnf", "-passin", "pass:1234", "-key", $"private/{Intermediate}.key.pem",
            "-subj", "/CN=Azure IoT Hub Intermediate Cert Test Only", "-out", $"csr/{Intermediate}.csr.pem");
        OpenSsl.Ok(Folder, "ca", "-batch", "-config", "openssl_root_ca.cnf", "-passin", "pass:1234", "-extensions", "v3_intermediate_ca",
            "-days", "30", "-notext", "-md", "sha256", "-in", $"csr/{Intermediate}.csr.pem", "-out", $"certs/{Intermediate}.cert.pem");
        File.WriteAllText(Path.Combine(Folder, "certs/azure-iot-test-only.chain.ca.cert.pem"),
            File.ReadAllText(Path.Combine(Folder, $"certs/{Intermediate}.cert.pem")) + File.ReadAllText(Path.Combine(Folder, $"certs/{Root}.cert.pem")));

        Leaf("verification-code", "0A1B2C3D4E5F");
        Leaf("new-device", "cheesecave-device1");
    }

    public string Folder { get; }

    /// <summary>Copies the folder into <paramref name="target"/> (an empty test folder).</summary>
    public void CopyTo(string target)
    {
        foreach (var path in Directory.EnumerateFiles(Folder, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(Folder, path));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(path, destination);
        }
    }

    public void Dispose() => Directory.Delete(Folder, recursive: true);

    // certGen's leaf step: an unencrypted key, a CSR, "openssl ca" with usr_cert signed by the root, a PFX with 1234.
    private void Leaf(string prefix, string cn)
    {
        OpenSsl.Ok(Folder, "genrsa", "-out", $"private/{prefix}.key.pem", "2048");
        OpenSsl.Ok(Folder, "req", "-config", "openssl_root_ca.cnf", "-key", $"private/{prefix}.key.pem", "-subj", "/CN=" + cn, "-new", "-sha256", "-out", $"csr/{prefix}.csr.pem");
        OpenSsl.Ok(Folder, "ca", "-batch", "-config", "openssl_root_ca.cnf", "-passin", "pass:1234", "-extensions", "usr_cert",
            "-days", "30", "-notext", "-md", "sha256", "-in", $"csr/{prefix}.csr.pem", "-out", $"certs/{prefix}.cert.pem");
        OpenSsl.Ok(Folder, "pkcs12", "-in", $"certs/{prefix}.cert.pem", "-inkey", $"private/{prefix}.key.pem", "-password", "pass:1234", "-export", "-out", $"certs/{prefix}.cert.pfx");
    }
}
