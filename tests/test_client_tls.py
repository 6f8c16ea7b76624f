"""The desktop talks to the relay over verified TLS only; a clinic CA can be added."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from inbox_app.client.api import RelayClient, RelayUnavailable
from inbox_app.client.network import InsecureRelayUrl, NetworkOptions, check_relay_url
from inbox_app.domain.roles import Role
from inbox_app.relay.app import create_app
from inbox_app.relay.settings import RelaySettings

from .live_server import LiveServer
from .test_relay_api import add_user


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_clinic_ca(folder: Path) -> tuple[Path, Path, Path]:
    """A clinic's own CA and a relay certificate for 127.0.0.1 signed by it."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Praxis Test CA"))
        .issuer_name(_name("Praxis Test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("relay.praxis.test"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = folder / "ca.pem", folder / "relay.pem", folder / "relay.key"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_path, cert_path, key_path


def test_relay_with_a_clinic_certificate_needs_the_clinic_ca(
    tmp_path: Path, relay_settings: RelaySettings
) -> None:
    ca, cert, key = make_clinic_ca(tmp_path)
    add_user(relay_settings, "anna", Role.RECEPTIONIST)
    with LiveServer(
        create_app(relay_settings), ssl_certfile=str(cert), ssl_keyfile=str(key)
    ) as relay:
        assert relay.url.startswith("https://")

        async def sign_in(network: NetworkOptions) -> str:
            async with RelayClient(relay.url, network=network) as api:
                user = await api.login("anna", "correct horse")
                return user.username

        # Public CAs only: the clinic's certificate is refused, with words that say why.
        with pytest.raises(RelayUnavailable) as refused:
            asyncio.run(sign_in(NetworkOptions()))
        assert refused.value.code == "certificate"
        assert "INBOX_CA_BUNDLE" in str(refused.value)
        # With the clinic's CA added, the same relay is trusted.
        assert asyncio.run(sign_in(NetworkOptions(ca_bundle=ca))) == "anna"
        # The environment variable does the same for the real app.
        assert NetworkOptions.from_env({"INBOX_CA_BUNDLE": str(ca)}).ca_bundle == ca


def test_plain_http_only_for_a_relay_on_this_pc() -> None:
    assert check_relay_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    assert check_relay_url("http://localhost:8080/") == "http://localhost:8080/"
    assert check_relay_url("https://relay.praxis.example") == "https://relay.praxis.example"
    with pytest.raises(InsecureRelayUrl, match="https://"):
        check_relay_url("http://relay.praxis.example")
    with pytest.raises(InsecureRelayUrl):
        check_relay_url("relay.praxis.example")
    with pytest.raises(InsecureRelayUrl):
        RelayClient("http://192.0.2.10:8080")
