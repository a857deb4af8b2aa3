"""Review reminders over STARTTLS: the mail server's certificate is checked before the SMTP
password goes out (a server with an untrusted one gets nothing), and SMTP_CA_FILE trusts a
board's own authority."""

import datetime as dt
import ipaddress
import ssl

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.factories import make_school, make_user, post_activity
from tests.live_server import free_port
from tests.test_reminders import Mailbox, send


def _certificate(tmp_path, for_loopback: bool):
    """A self-signed certificate (for 127.0.0.1, or for another name) and a server context."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mail.board.test")])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    )
    if for_loopback:
        address = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
        builder = builder.add_extension(x509.SubjectAlternativeName([address]), critical=False)
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    certificate = builder.sign(key, hashes.SHA256())
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return cert_file, context


def _send_through(make_app, tls_context, **settings):
    logins, box = [], Mailbox()

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=True)

    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=tls_context,
        require_starttls=True,
        authenticator=authenticator,
    )
    controller.start()
    try:
        app = make_app(
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=controller.port,
            SMTP_STARTTLS=True,
            SMTP_USERNAME="mailer",
            SMTP_PASSWORD="smtp-secret",
            APP_BASE_URL="https://sro.test",
            **settings,
        )
        school = make_school()
        make_user("school_leader", [school], email="lead@board.test")
        post_activity(app.test_client(), make_user("officer", [school]), school)
        result = send(app)
    finally:
        controller.stop()
    return result, logins, box


def test_starttls_to_a_server_with_an_untrusted_certificate_sends_no_password(make_app, tmp_path):
    _, context = _certificate(tmp_path, for_loopback=False)
    result, logins, box = _send_through(make_app, context)
    assert logins == []
    assert box.messages == []
    assert result.exit_code == 1  # failed: tried again on the next run


def test_starttls_with_the_boards_authority_in_smtp_ca_file_sends(make_app, tmp_path):
    cert_file, context = _certificate(tmp_path, for_loopback=True)
    result, logins, box = _send_through(make_app, context, SMTP_CA_FILE=str(cert_file))
    assert result.exit_code == 0, result.output
    assert logins == [(b"mailer", b"smtp-secret")]
    assert len(box.messages) == 1
