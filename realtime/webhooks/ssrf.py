"""Which webhook URLs Tally may call. A URL is checked when it is saved and
again, with a fresh DNS lookup, at every delivery (DNS can change); the
delivery then connects to the address that was checked, not to a second
lookup (no DNS rebinding between check and connect)."""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

MAX_URL_LENGTH = 2000
# Cloud metadata services outside the ranges is_global already refuses
# (169.254.169.254 and fd00:ec2::254 are link-local / private anyway).
_METADATA_ADDRESSES = {ipaddress.ip_address("100.100.100.200"), ipaddress.ip_address("192.0.0.192")}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeURL(Exception):
    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked IP the delivery connects to


def address_refused(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip in _NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return (
        not ip.is_global
        or ip.is_multicast
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_private
        or ip.is_reserved
        or ip.is_unspecified
        or ip in _METADATA_ADDRESSES
    )


def parse_url(url: str) -> tuple[str, str, int, str]:
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(f"A webhook URL has at most {MAX_URL_LENGTH} characters.", "too_long")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeURL("Not a valid URL.", "invalid")
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeURL("Only http and https URLs can receive webhooks.", "invalid_scheme")
    if scheme == "http" and settings.WEBHOOKS_REQUIRE_HTTPS:
        raise UnsafeURL("Webhook URLs must use https.", "https_required")
    if not parts.hostname:
        raise UnsafeURL("The URL has no host.", "invalid")
    if parts.username or parts.password:
        raise UnsafeURL("Credentials in the URL are not allowed; verify the signature instead.", "invalid")
    if any(ord(ch) < 33 for ch in url):
        raise UnsafeURL("The URL contains spaces or control characters.", "invalid")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80), path


def resolve(url: str) -> Target:
    """The checked target of ``url``; raises UnsafeURL."""
    scheme, host, port, path = parse_url(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise UnsafeURL(f"The host {host} does not resolve.", "unresolvable")
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise UnsafeURL(f"The host {host} does not resolve.", "unresolvable")
    # Every address must pass: a name with one public and one private address is refused.
    if not settings.WEBHOOKS_ALLOW_PRIVATE_URLS and any(address_refused(a) for a in addresses):
        raise UnsafeURL(
            "The URL resolves to a loopback, private, link-local, multicast or metadata address.", "address_refused"
        )
    return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])
