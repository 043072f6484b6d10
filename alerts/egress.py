"""Where a tenant's webhooks may send: public addresses, and private ones only in the
networks the operator allows (HATCHET_ALERT_ALLOWED_NETWORKS). Without this a tenant's
admin could have the server post to what only the server reaches (the cloud's metadata
service, the database, an internal admin page): server-side request forgery. The
address is checked when the alert is sent, where the name resolves, and the request
goes to the address checked, so that a name that resolves anew to another address
(DNS rebinding) cannot slip past."""

import ipaddress
import socket
from functools import cache
from urllib.parse import urlsplit

import httpx
from django.conf import settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Refused(Exception):
    """The destination is not one the server may send to (the text says why)."""


@cache
def parsed_networks(networks: tuple[str, ...]) -> list[Network]:
    return [ipaddress.ip_network(network, strict=False) for network in networks]


def is_allowed(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    allowed = parsed_networks(tuple(settings.HATCHET_ALERT_ALLOWED_NETWORKS))
    if any(address in network for network in allowed):
        return True
    return address.is_global and not address.is_multicast


def refusal(address: Address, name: str | None = None) -> Refused:
    what = f"{name} resolves to {address}, which" if name else str(address)
    return Refused(
        f"{what} is not a public address: alerts are sent only to public addresses and "
        "to the networks in HATCHET_ALERT_ALLOWED_NETWORKS."
    )


def refusal_without_lookup(url: str) -> str | None:
    """Why the URL's host is refused, when that shows without resolving it (an address
    given as such, or a name of this host); else None."""
    host = (urlsplit(url).hostname or "").lower()
    # Names of this host, which resolve without asking DNS.
    if host == "localhost" or host.endswith(".localhost"):
        address: Address = ipaddress.IPv4Address("127.0.0.1")
        name: str | None = host
    else:
        try:
            address, name = ipaddress.ip_address(host), None
        except ValueError:
            return None
    return None if is_allowed(address) else str(refusal(address, name))


def checked_addresses(url: httpx.URL) -> list[Address]:
    """The addresses to send to: the host's, each of which must be allowed (raises
    Refused, or OSError when the name does not resolve)."""
    host = url.host
    try:
        addresses: list[Address] = [ipaddress.ip_address(host)]
        name = None
    except ValueError:
        port = url.port or (443 if url.scheme == "https" else 80)
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        # A scoped IPv6 address ("fe80::1%eth0") is checked without its zone.
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]
        name = host
    for address in addresses:
        if not is_allowed(address):
            raise refusal(address, name)
    return list(dict.fromkeys(addresses))


def post_json(url: str, body: object, timeout: float) -> httpx.Response:
    """POST `body` as JSON to a checked address of `url`'s host (the next one when one
    refuses the connection, as clients do), naming the host in the Host header and,
    over TLS, in the SNI and the certificate check."""
    target = httpx.URL(url)
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}

    def send(address: Address) -> httpx.Response:
        with httpx.Client(timeout=timeout) as client:
            request = client.build_request(
                "POST",
                target.copy_with(host=str(address)),
                json=body,
                headers={"Host": target.netloc.decode("ascii")},
                extensions=extensions,
            )
            return client.send(request)

    *others, last = checked_addresses(target)
    for address in others:
        try:
            return send(address)
        except httpx.ConnectError:
            continue
    return send(last)
