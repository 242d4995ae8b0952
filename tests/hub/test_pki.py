"""`police-kiosk pki`: central's CA issues certificates whose common name is the broker identity."""

from __future__ import annotations

import queue
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hub.mqtt import HubMqtt
from hub.pki import PkiError, command, init_ca, issue


def common_name(path: Path) -> str:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def test_a_station_certificate_names_the_station_and_is_for_client_auth(tmp_path: Path) -> None:
    ca = init_ca(tmp_path)
    cert, key = issue(tmp_path, "station", "SZ-FT-0042")
    assert common_name(cert) == "SZ-FT-0042"
    parsed = x509.load_pem_x509_certificate(cert.read_bytes())
    parsed.verify_directly_issued_by(x509.load_pem_x509_certificate(ca.read_bytes()))
    eku = parsed.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert key.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "ca.key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("role", "name"),
    [
        ("station", "all"),
        ("station", "hub"),
        ("station", "hub-commands"),
        ("station", "HUB-1"),
        ("station", "a/b"),
        ("station", "+"),
        ("station", ""),
        ("hub", "central"),
        ("hub", "hub_2"),
    ],
)
def test_names_the_acl_reserves_or_cannot_express_are_refused(tmp_path: Path, role: str, name: str) -> None:
    init_ca(tmp_path)
    with pytest.raises(PkiError):
        issue(tmp_path, role, name)


def test_nothing_is_overwritten_and_the_cli_says_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert command("pki", ["init", "--dir", str(tmp_path)]) == 0
    assert command("pki", ["init", "--dir", str(tmp_path)]) == 2
    assert "never overwritten" in capsys.readouterr().err
    assert command("pki", ["station", "--dir", str(tmp_path), "ST-1"]) == 0
    assert command("pki", ["station", "--dir", str(tmp_path), "ST-1"]) == 2
    assert command("pki", ["station", "--dir", str(tmp_path), "all"]) == 2
    assert "reserved" in capsys.readouterr().err
    assert command("pki", ["hub", "--dir", str(tmp_path)]) == 0
    assert common_name(tmp_path / "hub.pem") == "hub"
    assert command("pki", ["station", "--dir", str(tmp_path / "nowhere"), "ST-2"]) == 2
    assert "pki init" in capsys.readouterr().err


def test_the_hub_refuses_a_client_certificate_without_tls_or_without_its_key() -> None:
    inbox: queue.Queue[object] = queue.Queue()
    with pytest.raises(ValueError, match="mqtts"):
        HubMqtt(
            "mqtt://127.0.0.1:1883",
            client_id="h",
            group="g",
            inbox=inbox,  # type: ignore[arg-type]
            cert_file="hub.pem",
            key_file="hub.key",
        )
    with pytest.raises(ValueError, match="both"):
        HubMqtt(
            "mqtts://127.0.0.1:8883",
            client_id="h",
            group="g",
            inbox=inbox,  # type: ignore[arg-type]
            cert_file="hub.pem",
        )
