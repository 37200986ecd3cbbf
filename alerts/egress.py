"""Where the service may send requests of its own (webhook deliveries): the egress policy.

A webhook URL is something an admin typed, so it is input: without a policy it could point the
service at itself, at a database port on the same host or at a cloud metadata address, and the
delivery record would tell open ports from closed ones. The policy:

* only ``http`` and ``https``;
* the host is resolved, and **every** address it resolves to must be public: loopback, private
  (RFC 1918, unique-local), link-local (169.254/16 and the metadata address in it), carrier-grade
  NAT, unspecified (``0.0.0.0``, ``::``), reserved, documentation and multicast addresses are
  refused, however they are written (decimal ``2130706433``, IPv4-mapped ``::ffff:127.0.0.1``);
* networks listed in ``CALLSCOPE_WEBHOOK_ALLOW`` (CIDR, comma separated) are allowed on top, for
  deployments whose receivers are internal.

The check runs when a subscription is made (a 422 saying why) and again at every delivery, and
the delivery connects to the very address that was checked (:func:`pinned_request`), so a DNS
answer that changes between the check and the connection cannot redirect it.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

import httpx

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class EgressRefused(ValueError):
    """The URL may not be contacted under the deployment's egress policy; the message says why."""


def _kind(ip: Address) -> str | None:
    """What makes ``ip`` non-public ("loopback", "private", …), None for a public address."""
    if ip.is_multicast:
        return "multicast"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "reserved"
    return None


def _plain(ip: Address) -> Address:
    """IPv4-mapped and 6to4-free form: ``::ffff:127.0.0.1`` is checked as ``127.0.0.1``."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


@dataclass(frozen=True)
class Target:
    """A checked destination: the URL as given, and the address (and port) to connect to."""

    url: httpx.URL
    address: Address
    port: int


@dataclass(frozen=True)
class EgressPolicy:
    """Public addresses only, plus the ``allow`` networks."""

    allow: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, text: str) -> EgressPolicy:
        """From ``CALLSCOPE_WEBHOOK_ALLOW``: CIDR networks or single addresses, comma separated
        (``10.20.0.0/16,192.168.5.7``). ValueError names an entry that is neither."""
        nets = []
        for item in (x.strip() for x in text.split(",") if x.strip()):
            try:
                nets.append(ipaddress.ip_network(item, strict=False))
            except ValueError as exc:
                raise ValueError(f"{item!r} is not a network such as 10.20.0.0/16 or an address") from exc
        return cls(tuple(nets))

    def refusal(self, ip: Address) -> str | None:
        """Why ``ip`` may not be contacted, None if it may."""
        ip = _plain(ip)
        if any(ip.version == net.version and ip in net for net in self.allow):
            return None
        kind = _kind(ip)
        return None if kind is None else f"a {kind} address ({ip})"

    def check(self, url: str | httpx.URL, resolve=socket.getaddrinfo) -> Target:
        """The :class:`Target` for ``url``, or :class:`EgressRefused` saying why not: a scheme other
        than http(s), a host that does not resolve, or any address of it that is not allowed."""
        try:
            parsed = httpx.URL(str(url))
        except (httpx.InvalidURL, TypeError) as exc:
            raise EgressRefused("not a URL") from exc
        if parsed.scheme not in ("http", "https"):
            raise EgressRefused(f"only http and https URLs are allowed, not {parsed.scheme or 'no scheme'}")
        host = parsed.host
        if not host:
            raise EgressRefused("the URL has no host")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            infos = resolve(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise EgressRefused(f"{host} does not resolve") from exc
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos))
        if not addresses:
            raise EgressRefused(f"{host} does not resolve")
        for ip in addresses:
            why = self.refusal(ip)
            if why is not None:
                raise EgressRefused(f"{host} resolves to {why}; webhooks go to public addresses only, unless "
                                    "CALLSCOPE_WEBHOOK_ALLOW lists its network")
        return Target(parsed, addresses[0], port)


def pinned_request(client: httpx.Client, target: Target, content: bytes, headers: dict[str, str]) -> httpx.Request:
    """A POST of ``content`` to ``target`` that connects to the checked address, with the URL's
    own host in the ``Host`` header and, for https, in SNI and the certificate check."""
    url = target.url.copy_with(host=str(target.address))
    host = target.url.host if target.url.port is None else f"{target.url.host}:{target.url.port}"
    if ":" in target.url.host:  # an IPv6 literal keeps its brackets in Host
        host = f"[{target.url.host}]" if target.url.port is None else f"[{target.url.host}]:{target.url.port}"
    extensions = {"sni_hostname": target.url.host} if target.url.scheme == "https" else {}
    return client.build_request("POST", url, content=content, headers={**headers, "Host": host}, extensions=extensions)
