"""A throwaway self-signed certificate for serving the sandbox over HTTPS.

Why: real VTEX is HTTPS only, and TLS is where clients differ most (a session that keeps its TLS
connection open versus one handshake per call; a private CA that the client must be told to trust).
The certificate is valid for ``127.0.0.1``, ``::1`` and ``localhost``, for a day, and is its own CA:
trust it by pointing the client at :attr:`SelfSignedCertificate.ca_file` (``requests``' ``verify=``,
the ``vtex`` connection's ``verify`` extra).

Made with the ``cryptography`` package (Airflow depends on it), imported here only, so the sandbox
itself stays importable with the standard library alone.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

#: The names the certificate is valid for.
SUBJECT_ALT_NAMES = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class SelfSignedCertificate:
    """A certificate and its key, written as PEM files into a private temporary directory."""

    directory: Path
    cert_file: Path
    key_file: Path

    @property
    def ca_file(self) -> Path:
        """The PEM to trust: the certificate is self-signed, so it is its own CA bundle."""
        return self.cert_file

    def server_context(self) -> ssl.SSLContext:
        """A server-side TLS context (TLS 1.2+) that presents this certificate."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def remove(self) -> None:
        """Delete the files (and their directory); safe to call twice."""
        shutil.rmtree(self.directory, ignore_errors=True)


def make_self_signed_certificate(
    names: tuple[str, ...] = SUBJECT_ALT_NAMES, *, days: int = 1
) -> SelfSignedCertificate:
    """Generate an ECDSA P-256 key and a self-signed certificate for ``names`` (IPs or DNS names).

    The files go to a new ``vtex-sandbox-tls-*`` temporary directory readable by the current user
    only; call :meth:`SelfSignedCertificate.remove` when done.
    """
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    except ImportError as exc:  # pragma: no cover - Airflow installs cryptography
        raise RuntimeError(
            "vtex-sandbox: serving HTTPS needs the 'cryptography' package (pip install cryptography)"
        ) from exc

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "vtex-sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, names[0]),
        ]
    )
    alt_names: list[x509.GeneralName] = []
    for name in names:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt_names.append(x509.DNSName(name))
    now = dt.datetime.now(dt.timezone.utc)
    public_key = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        # Its own trust anchor: a CA that may sign only itself (path length 0)...
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        # ...and a TLS server certificate; key identifiers keep strict X.509 checking (Python 3.13+) happy.
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory = Path(tempfile.mkdtemp(prefix="vtex-sandbox-tls-"))
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    try:
        cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_file.touch(mode=0o600)
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return SelfSignedCertificate(directory=directory, cert_file=cert_file, key_file=key_file)


__all__ = ["SUBJECT_ALT_NAMES", "SelfSignedCertificate", "make_self_signed_certificate"]
