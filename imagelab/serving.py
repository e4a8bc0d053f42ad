"""Who can reach a served ImageLab: whether the address it listens on is this computer only.

Streamlit listens on every network interface unless ``server.address`` says otherwise; ImageLab's
own configuration says ``127.0.0.1``. Serving further without login hands the key and the history
to anyone on the network, so the pages say so.
"""

from __future__ import annotations

import ipaddress

__all__ = ["serves_network", "NETWORK_WARNING"]

NETWORK_WARNING = (
    "ImageLab is listening on the network ({address}) without login: anyone who can reach this computer can "
    "spend its API key and see its history. Start it without --server.address to keep it to this computer "
    "(127.0.0.1), or add login for a team ([auth] in .streamlit/secrets.toml).")


def serves_network(address: str | None) -> bool:
    """Whether a server bound to ``address`` answers other computers: every interface ("" or 0.0.0.0 or ::)
    or any address that is not loopback."""
    host = (address or "").strip().strip("[]")
    if host in ("", "0.0.0.0", "::"):
        return True
    if host.lower() == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name other than localhost resolves to whatever the network says
        return True
