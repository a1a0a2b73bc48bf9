"""Over https the hub verifies the receiver's certificate: an untrusted one is refused, the right CA file works."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from devkit.receiver import ReferenceReceiver
from hub.journal import Journal
from hub.journal.models import EventKind
from hub.uplink import Backoff, FieldPolicy, JsonUplinkClient, RejectedError, Secret, UplinkStatus, UplinkWorker
from hub.uplink.transport import OutgoingEvent


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _make_ca(tmp: Path, label: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(label)).issuer_name(_name(label)).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    path = tmp / f"{label}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert, path


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    """A county CA with a server certificate for 127.0.0.1, and an unrelated CA."""
    ca_key, ca_cert, ca_path = _make_ca(tmp_path, "county-ca")
    _, _, other_path = _make_ca(tmp_path, "other-ca")
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name("receiver")).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (tmp_path / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "server.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                            serialization.PrivateFormat.PKCS8,
                                                            serialization.NoEncryption()))
    return {"ca": ca_path, "other": other_path, "cert": tmp_path / "server.pem", "key": tmp_path / "server.key"}


@pytest.fixture
async def tls_receiver(
    tmp_path: Path, pki: dict[str, Path], hub_id: str, secret: Secret, socket_enabled: None
) -> AsyncIterator[ReferenceReceiver]:
    """The reference receiver serving https with the county CA's certificate."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki["cert"], pki["key"])
    receiver = ReferenceReceiver(tmp_path / "county.db", {hub_id: secret}, ssl_context=context)
    await receiver.start()
    yield receiver
    await receiver.stop()


async def test_untrusted_certificate_is_refused(tls_receiver: ReferenceReceiver, pki: dict[str, Path],
                                                journal: Journal, journal_path: Path, hub_id: str,
                                                secret: Secret, policy: FieldPolicy) -> None:
    event = journal.append(EventKind.DECISION, door="gate-1", payload={"result": "granted"})
    for ca_file in (None, pki["other"]):  # the system store, then a CA that did not sign it
        client = JsonUplinkClient(tls_receiver.url, hub_id, secret, ca_file=ca_file)
        with pytest.raises(RejectedError, match="certificate"):
            await client.send([OutgoingEvent(event=event, fields={"type": "decision"})])
        await client.close()
    worker = UplinkWorker(journal_path, JsonUplinkClient(tls_receiver.url, hub_id, secret), policy,
                          backoff=Backoff(base_s=0.01, cap_s=0.05))
    refused = asyncio.Event()
    worker.events.subscribe(UplinkStatus, lambda s: refused.set() if s.consecutive_rejections >= 2 else None)
    await worker.start()
    await asyncio.wait_for(refused.wait(), 30)
    await worker.stop()
    assert worker.status.backlog == 1 and not worker.status.connected
    assert "certificate" in (worker.status.last_error or "")


async def test_custom_ca_file_is_trusted(tls_receiver: ReferenceReceiver, pki: dict[str, Path], journal: Journal,
                                         journal_path: Path, hub_id: str, secret: Secret,
                                         policy: FieldPolicy) -> None:
    journal.append(EventKind.DECISION, door="gate-1", payload={"result": "granted"})
    client = JsonUplinkClient(tls_receiver.url, hub_id, secret, ca_file=pki["ca"])
    worker = UplinkWorker(journal_path, client, policy)
    await worker.start()
    await asyncio.wait_for(worker.wait_drained(), 30)
    await worker.stop()
    assert worker.status.backlog == 0 and worker.status.connected


def test_a_ca_file_is_checked_before_openssl_reads_it(tmp_path: Path) -> None:
    """A missing file, or one far larger than any CA bundle, is refused with a clear error."""
    from hub.exceptions import InvalidInputError
    from hub.uplink.tls import client_ssl_context

    with pytest.raises(InvalidInputError, match="does not exist"):
        client_ssl_context(tmp_path / "missing.pem")
    huge = tmp_path / "huge.pem"
    with huge.open("wb") as file:
        file.truncate(64 * 1024 * 1024)  # sparse: no disk used
    with pytest.raises(InvalidInputError, match="larger than 1024 KB"):
        client_ssl_context(huge)
