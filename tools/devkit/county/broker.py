"""A local Mosquitto for the MQTT profile's tests and benchmarks: a generated CA, a server certificate, per-hub
client certificates (the certificate's CN is the MQTT user name), a CRL, an ACL that lets each hub write only under
its own prefix and read only its own acknowledgements, persistence on. It is also a working example of the broker
configuration docs/uplink-protocol.md describes (section 5).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

CONSUMER = "county-consumer"
ROOT = "county/0317/community"

ACL = f"""\
# Hubs: the certificate's CN is the user name (use_identity_as_username). A hub writes only under its own prefix
# and reads only its own acknowledgements.
pattern write county/+/community/%u/events/#
pattern write county/+/community/%u/status
pattern read county/+/community/%u/ack
# The county consumer reads every hub and writes the acknowledgements.
user {CONSUMER}
topic read county/#
topic write county/+/community/+/ack
"""


def mosquitto_binary() -> str | None:
    """The broker's path, or None when it is not installed."""
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/bin/mosquitto") if os.access(p, os.X_OK)), None)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    """A private key, readable by its owner only (0600) from the moment the file exists."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def _pair(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> bool:
    """Whether ``key`` is the private key of ``cert``."""
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return cert.public_key().public_bytes(*spki) == key.public_key().public_bytes(*spki)


def _fresh(cert: x509.Certificate) -> bool:
    """Valid now and for at least one more day."""
    now = dt.datetime.now(dt.UTC)
    return cert.not_valid_before_utc <= now and cert.not_valid_after_utc > now + dt.timedelta(days=1)


@dataclass(frozen=True)
class ClientFiles:
    """A client's certificate and key files."""

    cert: Path
    key: Path
    serial: int


class Pki:
    """A test CA in ``folder``: server and client certificates, and a CRL of the revoked ones.

    By default every instance is a new CA (the tests' and benchmarks' throwaway one). With ``reuse`` (the demo's
    ``.demo/`` folder) the CA's key is kept in ``folder`` (0600) and loaded on the next start, and the server's
    and each client's certificate keep fixed names and are issued again only when missing, expiring or not
    signed by this CA."""

    def __init__(self, folder: Path, *, reuse: bool = False, days: int = 30) -> None:
        self.folder = folder
        self.reuse = reuse
        self.days = days
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)
        self.ca_file = folder / "ca.pem"
        ca_key_file = folder / "ca.key"
        loaded = self._load_ca(ca_key_file) if reuse else None
        if loaded is not None:
            self._key, self._cert = loaded
        else:
            self._key = _key()
            self._cert = self._new_ca()
            self.ca_file.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))
            if reuse:
                _write_key(ca_key_file, self._key)
        self._name = self._cert.subject
        self.revoked: list[int] = []
        self.crl_file = folder / "crl.pem"
        self._write_crl()
        self.server = self._issue("localhost", server=True)

    def _new_ca(self) -> x509.Certificate:
        now = dt.datetime.now(dt.UTC)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test County CA")])
        return (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=self.days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256())
        )

    def _load_ca(self, key_file: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate] | None:
        """The CA kept from an earlier start, unless missing, unreadable or expiring within a day."""
        try:
            key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
            cert = x509.load_pem_x509_certificate(self.ca_file.read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not _fresh(cert) or not _pair(cert, key):
            return None
        return key, cert

    def _reusable(self, files: ClientFiles) -> ClientFiles | None:
        """An earlier start's certificate with these names, if this CA signed it and it is not about to expire."""
        try:
            cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
            key = serialization.load_pem_private_key(files.key.read_bytes(), password=None)
            cert.verify_directly_issued_by(self._cert)
        except (OSError, ValueError, TypeError, InvalidSignature):
            return None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not _fresh(cert) or not _pair(cert, key):
            return None
        return ClientFiles(cert=files.cert, key=files.key, serial=cert.serial_number)

    def _issue(self, common_name: str, *, server: bool = False, expired: bool = False,
               folder: Path | None = None) -> ClientFiles:
        folder = folder or self.folder
        folder.mkdir(parents=True, exist_ok=True)
        if self.reuse and not expired:
            stem = ("server" if server else common_name)[:80]
            kept = self._reusable(ClientFiles(cert=folder / f"{stem}.pem", key=folder / f"{stem}.key", serial=0))
            if kept is not None:
                return kept
        key = _key()
        now = dt.datetime.now(dt.UTC)
        serial = x509.random_serial_number()
        start, end = (now - dt.timedelta(days=10), now - dt.timedelta(days=1)) if expired else (
            now - dt.timedelta(days=1), now + dt.timedelta(days=self.days))
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self._name).public_key(key.public_key()).serial_number(serial)
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH if server
                                                  else x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        )
        if server:
            import ipaddress

            builder = builder.add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        cert = builder.sign(self._key, hashes.SHA256())
        stem = (("server" if server else common_name) if self.reuse and not expired
                else f"{common_name}-{serial:x}")[:80]
        files = ClientFiles(cert=folder / f"{stem}.pem", key=folder / f"{stem}.key", serial=serial)
        files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(files.key, key)
        return files

    def client(self, common_name: str, *, expired: bool = False, folder: Path | None = None) -> ClientFiles:
        """A client certificate whose CN (the broker's user name for it) is ``common_name``, written in ``folder``
        (default: the CA's)."""
        return self._issue(common_name, expired=expired, folder=folder)

    def revoke(self, files: ClientFiles) -> None:
        """Put a certificate on the CRL (the broker reads the CRL when it starts)."""
        self.revoked.append(files.serial)
        self._write_crl()

    def _write_crl(self) -> None:
        now = dt.datetime.now(dt.UTC)
        builder = (x509.CertificateRevocationListBuilder().issuer_name(self._name)
                   .last_update(now - dt.timedelta(minutes=5)).next_update(now + dt.timedelta(days=7)))
        for serial in self.revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now - dt.timedelta(minutes=1))
                .build())
        crl = builder.sign(self._key, hashes.SHA256())
        self.crl_file.write_bytes(crl.public_bytes(serialization.Encoding.PEM))


class Mosquitto:
    """One broker process on 127.0.0.1 with TLS, client certificates, the ACL and persistence in ``folder``."""

    def __init__(self, binary: str, folder: Path, pki: Pki, port: int | None = None) -> None:
        self.binary = binary
        self.folder = folder
        self.pki = pki
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "data").mkdir(exist_ok=True)
        self.log = folder / "mosquitto.log"
        self.acl = folder / "acl"
        self.acl.write_text(ACL)
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(f"""\
user root
per_listener_settings false
allow_anonymous false
persistence true
persistence_location {folder / "data"}/
autosave_interval 1
max_queued_messages 0
max_inflight_messages 0
log_dest file {self.log}
log_type error
log_type warning
log_type notice
log_type information
connection_messages true
acl_file {self.acl}
listener {self.port} 127.0.0.1
cafile {pki.ca_file}
certfile {pki.server.cert}
keyfile {pki.server.key}
crlfile {pki.crl_file}
require_certificate true
use_identity_as_username true
""")

    @property
    def url(self) -> str:
        """The broker's mqtts:// URL (the server certificate is for localhost and 127.0.0.1)."""
        return f"mqtts://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 10.0, *, own_session: bool = False) -> None:
        """Start the broker and wait until it accepts TCP connections. ``own_session``: in a session of its own,
        so a Ctrl-C at the terminal reaches only its parent, which then stops it in order (the demo)."""
        assert self.process is None or self.process.poll() is not None
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([self.binary, "-c", str(self.conf)], stdout=log, stderr=log,
                                            stdin=subprocess.DEVNULL, start_new_session=own_session)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited with {self.process.returncode}: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {self.port}: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: what it had not saved is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM (it saves its database), SIGKILL if it does not end."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
