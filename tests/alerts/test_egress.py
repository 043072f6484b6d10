"""Webhooks reach public addresses and the networks an operator allows, nothing else:
a tenant's admin cannot have the server post to what only it can reach (server-side
request forgery). Checked where the rule is saved when the URL shows it, and where
the alert is sent after resolving the name, the request going to the address checked."""

import ipaddress
import os
import socket
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import trustme
from rest_framework.test import APIClient

from alerts.delivery import deliver
from alerts.egress import is_allowed
from alerts.models import AlertRule
from hatchet.models import Tenant
from tests.alert_receivers import LoopbackSlack
from tests.alerts.test_api import RULES, new_rule
from tests.alerts.test_delivery import firing_event, only_delivery, outcome

pytestmark = pytest.mark.django_db

NOT_PUBLIC = (
    "is not a public address: alerts are sent only to public addresses and to the "
    "networks in HATCHET_ALERT_ALLOWED_NETWORKS."
)


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("127.0.0.1", False),
        ("::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4 loopback written as IPv6
        ("10.1.2.3", False),
        ("192.168.0.10", False),
        ("169.254.169.254", False),  # the cloud's metadata service
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),  # noqa: S104 (this host, to many systems)
        ("224.0.0.1", False),
        ("fd00::1", False),
    ],
)
def test_only_public_addresses_are_allowed_by_default(
    settings: Any, address: str, allowed: bool
) -> None:
    settings.HATCHET_ALERT_ALLOWED_NETWORKS = []

    assert is_allowed(ipaddress.ip_address(address)) is allowed


def test_the_networks_an_operator_allows_are_allowed(settings: Any) -> None:
    settings.HATCHET_ALERT_ALLOWED_NETWORKS = ["10.0.0.0/8"]

    assert is_allowed(ipaddress.ip_address("10.1.2.3"))
    assert not is_allowed(ipaddress.ip_address("192.168.0.10"))


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_webhook_to_a_private_address_is_refused_and_gets_nothing(
    tenant: Tenant, slack: LoopbackSlack, settings: Any, host: str
) -> None:
    settings.HATCHET_ALERT_ALLOWED_NETWORKS = []
    url = slack.url().replace("127.0.0.1", host)
    delivery = only_delivery(firing_event(tenant, webhook_urls=[url], emails=[]))

    assert deliver(delivery.pk, 1) == 5.0  # tried again later: the operator may allow it

    status, attempts, error = outcome(delivery)
    assert (status, attempts) == ("pending", 1)
    refused = "127.0.0.1" if host == "127.0.0.1" else "localhost resolves to "
    assert error.startswith(f"Refused: {refused}")
    assert error.endswith(NOT_PUBLIC)
    assert slack.posts == []


def test_the_post_goes_to_the_addresses_checked_not_to_a_second_lookup(
    tenant: Tenant, slack: LoopbackSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name looked up again may answer another address (DNS rebinding): the post uses
    the addresses the check saw, the next one when one refuses the connection."""
    port = slack.server.server_address[1]
    real_lookup = socket.getaddrinfo
    # Nothing listens on 127.0.0.9 or 127.0.0.10; the receiver is on 127.0.0.1.
    answers = iter([["127.0.0.9", "127.0.0.1"]])
    lookups = []

    def lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebound.test":
            return real_lookup(host, *args, **kwargs)
        lookups.append(host)
        addresses = next(answers, ["127.0.0.10"])
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    url = f"http://rebound.test:{port}/services/T0/B0/secret"
    delivery = only_delivery(firing_event(tenant, webhook_urls=[url], emails=[]))

    assert deliver(delivery.pk, 1) is None

    assert outcome(delivery) == ("delivered", 1, "")
    assert slack.hosts == [f"rebound.test:{port}"]
    assert lookups == ["rebound.test"]


def test_over_https_the_certificate_is_checked_against_the_name_not_the_address(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    authority = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert("localhost").configure_cert(context)
    slack = LoopbackSlack()
    slack.server.socket = context.wrap_socket(slack.server.socket, server_side=True)
    slack.start()
    bundle = tmp_path / "authority.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    port = slack.server.server_address[1]
    url = f"https://localhost:{port}/services/T0/B0/secret"
    delivery = only_delivery(firing_event(tenant, webhook_urls=[url], emails=[]))
    try:
        assert deliver(delivery.pk, 1) is None
    finally:
        slack.stop()

    assert outcome(delivery) == ("delivered", 1, "")
    assert slack.hosts == [f"localhost:{port}"]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254"),
        ("http://localhost:8080/hook", "localhost resolves to 127.0.0.1, which"),
        ("http://[::ffff:10.0.0.1]/hook", "::ffff:a00:1"),
    ],
)
def test_a_rule_with_a_private_webhook_is_refused_when_saved(
    api: APIClient, settings: Any, url: str, shown: str
) -> None:
    settings.HATCHET_ALERT_ALLOWED_NETWORKS = []

    response = api.post(
        RULES, new_rule(webhook_urls=["https://hooks.slack.com/x", url]), format="json"
    )

    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert message == f"webhook_urls: 1: {shown} {NOT_PUBLIC}"
    assert not AlertRule.objects.exists()


def test_a_rule_with_a_webhook_by_name_is_saved_without_resolving_it(
    api: APIClient, settings: Any
) -> None:
    settings.HATCHET_ALERT_ALLOWED_NETWORKS = []

    response = api.post(
        RULES, new_rule(webhook_urls=["https://hooks.example.invalid/x"]), format="json"
    )

    assert response.status_code == 201


def test_a_server_will_not_start_with_a_network_that_is_not_one() -> None:
    env = {**os.environ, "HATCHET_ALERT_ALLOWED_NETWORKS": "10.0.0.0/8, 10.0.0.0/33"}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)

    checked = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True
    )

    assert checked.returncode != 0
    assert "HATCHET_ALERT_ALLOWED_NETWORKS: '10.0.0.0/33' does not appear to be" in (checked.stderr)
