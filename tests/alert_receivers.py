"""Loopback receivers of alerts: a Slack-compatible incoming webhook that keeps each
POST (and answers the scripted failures first, as Slack does: 4xx/5xx with a text
body), and a real SMTP server (aiosmtpd) that keeps each message it is given."""

from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from bench.livestack import free_port
from tests.loopback import LoopbackServer, QuietHandler


class LoopbackSlack(LoopbackServer):
    def __init__(self) -> None:
        self.posts: list[tuple[str, Any]] = []
        # The Host header of each post.
        self.hosts: list[str | None] = []
        self.failures: list[int] = []
        super().__init__(slack_handler_for(self))

    def url(self, path: str = "/services/T0/B0/secret") -> str:
        return f"{self.origin}{path}"

    def fail(self, status: int, times: int = 1) -> None:
        """Answer the next `times` posts with `status`."""
        with self.lock:
            self.failures.extend([status] * times)

    def texts(self) -> list[str]:
        with self.lock:
            return [body["text"] for _, body in self.posts]


def slack_handler_for(slack: LoopbackSlack) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def do_POST(self) -> None:
            body = self.read_json()
            with slack.lock:
                slack.posts.append((self.path, body))
                slack.hosts.append(self.headers.get("Host"))
                failure = slack.failures.pop(0) if slack.failures else None
            if failure is not None:
                self.send_bytes(failure, b"channel_is_archived", "text/plain")
            elif not isinstance(body, dict) or not isinstance(body.get("text"), str):
                self.send_bytes(400, b"invalid_payload", "text/plain")
            else:
                self.send_bytes(200, b"ok", "text/plain")

    return Handler


@dataclass(frozen=True)
class ReceivedMail:
    sender: str
    recipients: list[str]
    message: EmailMessage


class LoopbackSMTP:
    """An SMTP server on a free loopback port, in a thread of its own."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mails: list[ReceivedMail] = []
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    # aiosmtpd calls its handler's hooks with the server and the session, used or not.
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: ARG002
        content = envelope.original_content or b""
        message = message_from_bytes(content, _class=EmailMessage, policy=policy.default)
        self.mails.append(
            ReceivedMail(str(envelope.mail_from), [str(to) for to in envelope.rcpt_tos], message)
        )
        return "250 Message accepted for delivery"

    def start(self) -> Self:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def subjects(self) -> list[str]:
        return [str(mail.message["Subject"]) for mail in self.mails]
