"""The demo county's CA (``Pki(folder, reuse=True)``, what ``community-hub run --uplink mqtt`` keeps in
``.demo/county-mqtt/pki``): made once with its key 0600, loaded on the next start; certificates keep their names
and are issued again only when they are not this CA's, or are about to expire."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509

from devkit.county.broker import Pki


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_a_reused_ca_is_loaded_not_made_again(tmp_path: Path) -> None:
    folder = tmp_path / "pki"
    first = Pki(folder, reuse=True, days=365)
    hub = first.client("hub-abc", folder=tmp_path / "hub")
    ca, server = first.ca_file.read_bytes(), first.server.cert.read_bytes()
    assert folder.stat().st_mode & 0o777 == 0o700
    for key in (folder / "ca.key", first.server.key, hub.key):
        assert key.stat().st_mode & 0o777 == 0o600, key
    assert hub.cert == tmp_path / "hub" / "hub-abc.pem"
    assert _cert(hub.cert).not_valid_after_utc > dt.datetime.now(dt.UTC) + dt.timedelta(days=300)

    second = Pki(folder, reuse=True, days=365)
    assert second.ca_file.read_bytes() == ca
    assert second.server.cert.read_bytes() == server
    again = second.client("hub-abc", folder=tmp_path / "hub")
    assert again == hub
    _cert(again.cert).verify_directly_issued_by(_cert(second.ca_file))


def test_a_certificate_of_another_ca_is_issued_again(tmp_path: Path) -> None:
    hub_folder = tmp_path / "hub"
    Pki(tmp_path / "old", reuse=True).client("hub-abc", folder=hub_folder)
    current = Pki(tmp_path / "pki", reuse=True)
    files = current.client("hub-abc", folder=hub_folder)
    _cert(files.cert).verify_directly_issued_by(_cert(current.ca_file))
    assert files.key.stat().st_mode & 0o777 == 0o600


def test_without_reuse_every_pki_is_a_new_ca(tmp_path: Path) -> None:
    first = Pki(tmp_path / "pki").ca_file.read_bytes()
    assert Pki(tmp_path / "pki").ca_file.read_bytes() != first
    assert not (tmp_path / "pki" / "ca.key").exists()
