"""This machine's own addresses on the networks it has joined: where phones in a hall can reach a laptop's server."""

from __future__ import annotations

import socket


def lan_addresses() -> list[str]:
    """This machine's own IPv4 addresses other than loopback: the laptop's LAN or hotspot address, for phones."""
    found: set[str] = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.add(info[4][0])
    except OSError:
        pass
    for probe in ("10.255.255.255", "192.168.255.255", "172.31.255.255"):  # no packet is sent: the route is asked
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                udp.connect((probe, 1))
                found.add(udp.getsockname()[0])
        except OSError:
            continue
    return sorted(address for address in found if not address.startswith(("127.", "0.")))
