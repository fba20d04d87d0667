"""Local servers standing in for the providers, able to go down and come back.

`TwilioStandIn` answers Twilio's Messages API (the real twilio library talks to it through
`TWILIO_API_BASE`); while `down` it answers 503 like Twilio during an incident, and a number in
`invalid_numbers` gets Twilio's 400. `SmtpStandIn` is a real SMTP server (aiosmtpd) on a fixed
loopback port: `stop()` closes the port (senders get "connection refused"), `start()` opens it
again; optionally with STARTTLS or implicit TLS and AUTH. `self_signed` makes a certificate for
127.0.0.1/localhost in the test's own folder.
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

SID = "AC" + "1" * 32
TOKEN = "stand-in-auth-token"


@dataclass
class TwilioStandIn:
    down: bool = False
    invalid_numbers: set[str] = field(default_factory=set)  # answered 400, code 21211
    sent: list[dict[str, str]] = field(default_factory=list)
    # every request as received: path, Authorization header, form fields (lists, as parsed)
    requests: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        state = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                fields = parse_qs(self.rfile.read(length).decode())
                form = {k: v[0] for k, v in fields.items()}
                with state.lock:
                    state.requests.append(
                        {"path": self.path, "auth": self.headers.get("Authorization"),
                         "form": fields}
                    )
                    if state.down:
                        state.refused += 1
                        status: int = 503
                        payload: dict[str, Any] = {
                            "code": 20503,
                            "message": "Service unavailable",
                            "status": 503,
                        }
                    elif "From" not in form and "MessagingServiceSid" not in form:
                        status = 400
                        payload = {
                            "code": 21603,
                            "message": "A 'From' or 'MessagingServiceSid' parameter is required.",
                            "status": 400,
                        }
                    elif form["To"] in state.invalid_numbers:
                        status = 400
                        payload = {
                            "code": 21211,
                            "message": f"The 'To' number {form['To']} is not a valid phone number.",
                            "status": 400,
                        }
                    else:
                        state.sent.append({"to": form["To"], "body": form["Body"]})
                        status = 201
                        payload = {
                            "sid": f"SM{len(state.sent):032x}",
                            "account_sid": SID,
                            "to": form["To"],
                            # Through a Messaging Service Twilio picks the number later.
                            "from": form.get("From"),
                            "messaging_service_sid": form.get("MessagingServiceSid"),
                            "body": form["Body"],
                            "status": "queued",
                        }
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def bodies(self) -> list[str]:
        with self.lock:
            return [m["body"] for m in self.sent]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Collector:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.envelopes.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpStandIn:
    def __init__(
        self,
        *,
        starttls: ssl.SSLContext | None = None,
        implicit_tls: ssl.SSLContext | None = None,
        login: tuple[str, str] | None = None,
    ) -> None:
        self.collector = _Collector()
        self.port = free_port()
        self.logins: list[str] = []
        self._starttls = starttls
        self._implicit = implicit_tls
        self._login = login
        self._controller: Controller | None = None

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            self._login is not None
            and isinstance(data, LoginPassword)
            and (data.login.decode(), data.password.decode()) == self._login
        )
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)

    def start(self) -> None:
        kwargs: dict[str, Any] = {}
        if self._starttls is not None:
            kwargs |= {"tls_context": self._starttls, "require_starttls": True}
        if self._implicit is not None:
            # aiosmtpd only counts STARTTLS as TLS when offering AUTH; this connection is TLS
            # from its first byte.
            kwargs |= {"ssl_context": self._implicit, "auth_require_tls": False}
        if self._login is not None:
            kwargs |= {"authenticator": self._authenticate, "auth_required": True}
        self._controller = Controller(
            self.collector, hostname="127.0.0.1", port=self.port, **kwargs
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[Any]:
        with self.collector.lock:
            return list(self.collector.envelopes)


def self_signed(folder: Path) -> tuple[Path, Path]:
    """(certificate, key) for CN=localhost with 127.0.0.1 and localhost as names."""
    cert, key = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    try:
        _with_cryptography(cert, key)
    except ImportError:  # the backend's environment may lack it: the system's openssl then
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout", str(key), "-out", str(cert),
            ],
            check=True, capture_output=True,
        )  # fmt: skip
    return cert, key


def _with_cryptography(cert_path: Path, key_path: Path) -> None:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    return context
