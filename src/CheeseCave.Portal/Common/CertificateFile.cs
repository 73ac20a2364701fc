namespace CheeseCave.Portal.Common;

/// <summary>A certificate file for the download endpoint: public material only.</summary>
public sealed record CertificateFile(string FileName, string ContentType, byte[] Content);
