using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki.Tests.Infrastructure;
using static CheeseCave.Pki.Tests.Infrastructure.TestPki;

namespace CheeseCave.Pki.Tests;

public sealed class KeyStoreTests : IDisposable
{
    private const string Passphrase = "key store passphrase 0123";
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Encrypted_PEM_file_store_writes_an_owner_only_encrypted_file()
    {
        var folder = _temp["keys"]; // created by the store
        var store = new EncryptedPemFileKeyStore(folder, Passphrase);
        using var key = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        Assert.False(await store.ExistsAsync("root-ca"));
        await store.SaveAsync("root-ca", key);

        var path = store.PathFor("root-ca");
        Assert.Equal(Path.Combine(folder, "root-ca.key.pem"), path);
        Assert.True(await store.ExistsAsync("root-ca"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        var content = await File.ReadAllTextAsync(path);
        Assert.StartsWith(PemLabels.BeginLine(PemLabels.EncryptedPrivateKey), content, StringComparison.Ordinal);
        Assert.Equal(["root-ca.key.pem"], Directory.GetFiles(folder).Select(Path.GetFileName)); // no temporary file left behind

        // openssl opens it with the passphrase, so the file is not tied to this library.
        _temp.Write("pass.txt", Passphrase + "\n");
        Assert.Equal(
            key.PublicKey.ExportSubjectPublicKeyInfo(),
            Convert.FromBase64String(string.Concat(OpenSsl.Run(_temp.Path, "pkey", "-in", path, "-passin", "file:pass.txt", "-pubout")
                .Split('\n').Where(l => l.Length > 0 && !l.StartsWith("-----", StringComparison.Ordinal)))));
    }

    [Fact]
    public async Task Encrypted_PEM_file_store_never_overwrites()
    {
        var store = new EncryptedPemFileKeyStore(_temp.Path, Passphrase);
        using var first = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        using var second = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        await store.SaveAsync("ca", first);
        var before = await File.ReadAllBytesAsync(store.PathFor("ca"));

        var exception = await Assert.ThrowsAsync<PkiException>(() => store.SaveAsync("ca", second));
        Assert.Equal(PkiErrorCode.InvalidInput, exception.Code);
        Assert.Contains("never overwritten", exception.Message, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllBytesAsync(store.PathFor("ca")));
        Assert.Single(Directory.GetFiles(_temp.Path));
        using var opened = await store.OpenAsync("ca");
        Assert.Equal(first.PublicKey.ExportSubjectPublicKeyInfo(), opened.PublicKey.ExportSubjectPublicKeyInfo());
    }

    [Theory]
    [InlineData(KeyAlgorithm.EcdsaP384)]
    [InlineData(KeyAlgorithm.Rsa2048)]
    public async Task Encrypted_PEM_file_store_opens_with_the_passphrase_only(KeyAlgorithm algorithm)
    {
        var store = new EncryptedPemFileKeyStore(_temp.Path, Passphrase);
        using var key = PrivateKey.Generate(algorithm);
        await store.SaveAsync("intermediate", key);

        using var opened = await store.OpenAsync("intermediate");
        Assert.Equal(algorithm, opened.Algorithm);
        Assert.Equal(key.PublicKey.ExportSubjectPublicKeyInfo(), opened.PublicKey.ExportSubjectPublicKeyInfo());

        var wrong = new EncryptedPemFileKeyStore(_temp.Path, "a different passphrase");
        var exception = await Assert.ThrowsAsync<PkiException>(() => wrong.OpenAsync("intermediate"));
        Assert.Equal(PkiErrorCode.WrongPassphrase, exception.Code);
        AssertOneLine(exception.Message);

        var missing = await Assert.ThrowsAsync<PkiException>(() => store.OpenAsync("nothing-here"));
        Assert.Equal(PkiErrorCode.UnreadableKey, missing.Code);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("../escape")]
    [InlineData("sub/dir")]
    [InlineData("back\\slash")]
    public void Encrypted_PEM_file_store_refuses_key_names_that_are_not_plain_names(string keyId)
    {
        var store = new EncryptedPemFileKeyStore(_temp.Path, Passphrase);
        AssertFails(PkiErrorCode.InvalidInput, () => store.PathFor(keyId), "not a valid key name");
    }

    [Fact]
    public async Task In_memory_store_round_trips_a_key_that_can_sign()
    {
        var store = new InMemoryKeyStore();
        var ca = new CertificateAuthority(FixedClock());
        using var root = ca.CreateRoot(new RootCaRequest("Memory Root"));
        await store.SaveAsync("root", root.Key!);
        Assert.True(await store.ExistsAsync("root"));
        Assert.False(await store.ExistsAsync("other"));

        using var credential = CaCredential.Create(root.Certificate, await store.OpenAsync("root"));
        using var device = ca.IssueDeviceCertificate(new DeviceCertificateRequest("memory-device"), credential);
        Assert.True(SignatureVerifier.IsSignedBy(device.Certificate, root.Certificate));

        var duplicate = await Assert.ThrowsAsync<PkiException>(() => store.SaveAsync("root", root.Key!));
        Assert.Equal(PkiErrorCode.InvalidInput, duplicate.Code);
        var missing = await Assert.ThrowsAsync<PkiException>(() => store.OpenAsync("other"));
        Assert.Equal(PkiErrorCode.UnreadableKey, missing.Code);
    }

    [Fact]
    public void Generated_passphrases_are_long_random_and_shell_safe()
    {
        var a = Passphrases.Generate();
        var b = Passphrases.Generate();
        Assert.NotEqual(a, b);
        Assert.Equal(43, a.Length);
        Assert.All(a, c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '-' or '_', $"'{c}' is not shell-safe"));
        using var key = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        using var back = PrivateKey.ImportPem(key.ExportEncryptedPem(a), a);
        Assert.True(back.Matches(CreateSelfSigned(key)));
    }

    private static X509Certificate2 CreateSelfSigned(PrivateKey key)
    {
        var request = new CertificateRequest(new X500DistinguishedName("CN=self"), key.PublicKey, System.Security.Cryptography.HashAlgorithmName.SHA256);
        return request.Create(new X500DistinguishedName("CN=self"), key.CreateSignatureGenerator(), FixedNow, FixedNow.AddDays(1), [1, 2, 3, 4, 5, 6, 7, 8]);
    }
}
