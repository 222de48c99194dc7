"""Which peers are our reverse proxies (settings.TRUSTED_PROXIES): only their
X-Forwarded-For and X-Forwarded-Proto headers are believed."""

import ipaddress

from django.conf import settings


def trusted_networks():
    return [ipaddress.ip_network(entry, strict=False) for entry in settings.TRUSTED_PROXIES]


def is_trusted(address, networks=None) -> bool:
    networks = trusted_networks() if networks is None else networks
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)
