"""Outbound HTTP to addresses an organisation's admin typed in (webhooks): never to this
machine or the operator's internal network unless the operator allows it (SSRF).

The check runs where the connection is made: `GuardedBackend` resolves the host itself, refuses
loopback, private, link-local and other non-public addresses outside the allowed networks, and
connects to the address it checked. So a name that resolves to a public address at creation
and to 127.0.0.1 at delivery time (DNS rebinding) is still refused, and TLS still verifies
the name (httpcore sends the URL's host as SNI, not the address connected to). Redirects are
not followed and environment proxies are ignored: either would bypass the check.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
from collections.abc import Iterable, Sequence

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# What `mitwirken dev` and the tests allow: a receiver on this machine.
LOOPBACK = "127.0.0.0/8,::1/128"


# A name server that does not answer must not hold an API request or a delivery for long.
RESOLVE_TIMEOUT = 5.0


class BlockedAddress(Exception):
    """The target resolves to an address outbound requests may not reach."""


def parse_networks(value: str) -> tuple[Network, ...]:
    """The operator setting: comma-separated CIDR networks ("127.0.0.0/8,10.1.2.3/32")."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False)
                 for part in value.split(",") if part.strip())


def is_public(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return not (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast
                or ip.is_reserved or ip.is_unspecified)


def address_allowed(ip: IPAddress, allowed: Sequence[Network]) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return is_public(ip) or any(ip.version == n.version and ip in n for n in allowed)


async def resolve_allowed(host: str, port: int, allowed: Sequence[Network]) -> list[str]:
    """The host's addresses, all of them allowed, or BlockedAddress (one bad address is
    enough: which one a client picks is not ours to know)."""
    try:
        infos = await asyncio.wait_for(asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT)
    except socket.gaierror as exc:
        raise BlockedAddress(f"{host}: nicht auflösbar ({exc.strerror})") from exc
    except TimeoutError as exc:
        raise BlockedAddress(f"{host}: keine Antwort vom DNS") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not address_allowed(ip, allowed):
            raise BlockedAddress(f"{host} löst zu {ip} auf (nicht öffentlich)")
    if not addresses:
        raise BlockedAddress(f"{host}: keine Adresse")
    return addresses


class GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, allowed: Sequence[Network]) -> None:
        self.allowed = tuple(allowed)
        self._inner = httpcore.AnyIOBackend()  # httpx's own on asyncio

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await resolve_allowed(host, port, self.allowed)
        return await self._inner.connect_tcp(addresses[0], port, timeout=timeout,
                                             local_address=local_address,
                                             socket_options=socket_options)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress("Unix-Sockets sind kein Ziel")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle takes ~30 ms: once per process, not per client (a pool per batch).
    return httpx.create_ssl_context()


def guarded_client(allowed: Sequence[Network], *, timeout: float = 10.0,
                   max_connections: int = 100) -> httpx.AsyncClient:
    """An httpx client whose every connection goes through GuardedBackend."""
    transport = httpx.AsyncHTTPTransport()
    # httpx builds its pool without a network backend parameter; this is the pool it would
    # build, with ours (tests/services/test_webhooks_unit.py shows the guard in force).
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=_ssl_context(), max_connections=max_connections,
        max_keepalive_connections=max_connections, keepalive_expiry=5.0,
        network_backend=GuardedBackend(allowed))
    return httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False,
                             trust_env=False)


_allowed: tuple[Network, ...] = ()
_timeout = 10.0
_client: httpx.AsyncClient | None = None


def configure(allowed: Sequence[Network], *, timeout: float = 10.0) -> None:
    """Set the process's allowed non-public networks and timeout (the worker, from the
    settings)."""
    global _allowed, _client, _timeout
    _allowed, _client, _timeout = tuple(allowed), None, timeout


def allowed_networks() -> tuple[Network, ...]:
    return _allowed


def new_client(*, max_connections: int = 100) -> httpx.AsyncClient:
    """A client of its own (the caller closes it), with the process's settings."""
    return guarded_client(_allowed, timeout=_timeout, max_connections=max_connections)


def get_client() -> httpx.AsyncClient:
    """The process's one outbound client (connection pooling across deliveries)."""
    global _client
    if _client is None:
        _client = guarded_client(_allowed, timeout=_timeout)
    return _client
