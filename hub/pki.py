"""`police-kiosk pki`: central's certificate authority for the broker's mutual TLS.

The broker configuration we ship (deploy/mosquitto/) takes a client's identity from its certificate:
the certificate's common name is its broker user name *and* its client id, and the ACL gives each name
its topics. So the CA decides who is who:

    police-kiosk pki init    --dir /srv/police-ca                      # ca.pem, ca.key (0600)
    police-kiosk pki server  --dir /srv/police-ca mqtt.central.example 10.0.0.5
    police-kiosk pki station --dir /srv/police-ca SZ-FT-0042           # SZ-FT-0042.pem, SZ-FT-0042.key
    police-kiosk pki hub     --dir /srv/police-ca hub                  # the hub service
    police-kiosk pki hub     --dir /srv/police-ca hub-commands         # `hub command`, `hub rotate-key`

Station names follow the station id rules and may not be `all` or start with `hub` (names the ACL
gives central's powers); hub names must start with `hub`. Keys are ECDSA P-256, written 0600; nothing
is ever overwritten. Certificates carry the client-auth (or server-auth) extended key usage.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import os
import re
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from edge.wire.messages import STATION_ID_RE

__all__ = ["PkiError", "command", "init_ca", "issue"]

_HUB_RE = re.compile(r"^hub(-[a-z0-9]{1,32})?$")


class PkiError(Exception):
    """A refusal with a reason the operator can act on."""


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "police-kiosk"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write_new(path: Path, data: bytes, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise PkiError(f"{path} exists (never overwritten)") from None
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def init_ca(directory: Path, *, name: str = "police-kiosk central CA", days: int = 3650) -> Path:
    """A new CA in DIRECTORY (ca.pem, ca.key 0600); returns the certificate's path."""
    directory.mkdir(parents=True, exist_ok=True)
    for f in ("ca.pem", "ca.key"):
        if (directory / f).exists():
            raise PkiError(f"{directory / f} exists (never overwritten)")
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(_name(name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_new(directory / "ca.key", _key_pem(key), 0o600)
    _write_new(directory / "ca.pem", cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return directory / "ca.pem"


def _load_ca(directory: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    try:
        cert = x509.load_pem_x509_certificate((directory / "ca.pem").read_bytes())
        key = serialization.load_pem_private_key((directory / "ca.key").read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise PkiError(f"no usable CA in {directory} (run `police-kiosk pki init` first): {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PkiError(f"{directory / 'ca.key'} is not an ECDSA key made by `police-kiosk pki init`")
    return cert, key


def check_name(role: str, name: str) -> None:
    if role == "station":
        if not STATION_ID_RE.match(name):
            raise PkiError(f"{name!r} is not a station id (1-64 letters, digits, '_', '.', '-')")
        if name == "all" or name.lower().startswith("hub"):
            raise PkiError(f"{name!r} is reserved: the broker's ACL gives `all` and `hub...` other rights")
    elif role == "hub" and not _HUB_RE.match(name):
        raise PkiError(f"{name!r}: hub names are `hub` or `hub-NAME` (lower case), as the ACL names them")


def issue(
    directory: Path, role: str, name: str, *, out: Path | None = None, days: int = 825, hosts: list[str] | None = None
) -> tuple[Path, Path]:
    """Issue NAME's key and certificate (role `station`, `hub` or `server`); returns (cert, key) paths."""
    check_name(role, name)
    ca_cert, ca_key = _load_ca(directory)
    out = out or directory
    out.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = out / f"{name}.pem", out / f"{name}.key"
    for p in (cert_path, key_path):
        if p.exists():
            raise PkiError(f"{p} exists (never overwritten)")
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    usage = ExtendedKeyUsageOID.SERVER_AUTH if role == "server" else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    if role == "server":
        sans: list[x509.GeneralName] = []
        for h in hosts or [name]:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(h)))
            except ValueError:
                sans.append(x509.DNSName(h))
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    _write_new(key_path, _key_pem(key), 0o600)
    _write_new(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return cert_path, key_path


def command(name: str, argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="police-kiosk pki", description="Central's CA for the broker's mutual TLS.")
    sub = p.add_subparsers(dest="action", required=True)
    init = sub.add_parser("init", help="make the CA (ca.pem, ca.key)")
    server = sub.add_parser("server", help="the broker's certificate, for its host names and addresses")
    station = sub.add_parser("station", help="a station's key and certificate (its name is its station id)")
    hub = sub.add_parser("hub", help="a key and certificate for the hub (`hub`) or its tools (`hub-commands`)")
    for sp in (init, server, station, hub):
        sp.add_argument("--dir", type=Path, required=True, help="the CA's directory")
    init.add_argument("--name", default="police-kiosk central CA")
    init.add_argument("--days", type=int, default=3650)
    for sp in (server, station, hub):
        sp.add_argument("--out", type=Path, help="where to write NAME.pem and NAME.key (default: --dir)")
        sp.add_argument("--days", type=int, default=825)
    server.add_argument("hosts", nargs="+", help="DNS names and IP addresses clients use to reach the broker")
    station.add_argument("name", help="the station id")
    hub.add_argument("name", nargs="?", default="hub", help="`hub` (default), `hub-commands` or `hub-NAME`")
    args = p.parse_args(argv)
    try:
        if args.action == "init":
            ca = init_ca(args.dir, name=args.name, days=args.days)
            print(f"wrote {ca} and {args.dir / 'ca.key'} (keep the key off-line)")
            return 0
        if args.action == "server":
            cert, key = issue(args.dir, "server", "server", out=args.out, days=args.days, hosts=args.hosts)
        else:
            cert, key = issue(args.dir, args.action, args.name, out=args.out, days=args.days)
    except PkiError as exc:
        print(f"police-kiosk pki {args.action}: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {cert} and {key}")
    return 0
