"""Pure checks of a MongoDB connection string, with its password masked.

The rules follow PyMongo's ``uri_parser`` (the host list ends at the first
``/`` or ``?``, user info at its last ``@``), so a URI refused here would be
refused by the driver too, but with a reason naming what is missing or wrong.
``config`` may not import the driver (``tests/test_layout.py``), and SRV
records are never looked up here: that needs the network.

Reasons never quote the URI's parts: a password with an unescaped ``/`` or
``?`` would otherwise show up as a "host" or "port".
"""

from __future__ import annotations

import re

from config.parsers import Invalid, Kind

_PLAIN, _SRV = "mongodb://", "mongodb+srv://"
_PORT = re.compile(r"[0-9]+")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_MAX_PORT = 65535
_ESCAPE = (
    "percent-encode ':', '/', '?', '#', '[', ']' and '@' in the user name and password"
    " (urllib.parse.quote_plus)"
)
_NO_NUMBER = "a port that is not a number (if it is part of a password, percent-encode that)"


def masked(uri: str) -> str:
    """Quote ``uri`` with everything between the user's ``:`` and the last ``@`` masked.

    Masking up to the *last* ``@`` also hides a password that contains an
    unescaped ``@``, ``/`` or ``?``; at worst a host is masked too.
    """
    scheme = _SCHEME.match(uri)
    colon = uri.find(":", scheme.end() if scheme else 0)
    at = uri.rfind("@")
    if 0 <= colon < at:
        return repr(f"{uri[: colon + 1]}***{uri[at:]}")
    return repr(uri)


def check_mongo_uri(uri: str) -> None:
    """Refuse a URI PyMongo would refuse, saying what is missing or wrong.

    Raises:
        Invalid: With the reason.
        ValueError: Not a ``mongodb://`` or ``mongodb+srv://`` URI at all.
    """
    scheme = next((s for s in (_SRV, _PLAIN) if uri.startswith(s)), None)
    if scheme is None:
        raise ValueError("not a MongoDB URI")
    if any(char.isspace() for char in uri):
        raise Invalid("whitespace inside it")
    host_part, _, path = uri[len(scheme) :].partition("?")[0].partition("/")
    if "@" in path:
        raise Invalid(f"an '@' after the first '/': {_ESCAPE}")
    userinfo, at, hosts = host_part.rpartition("@")
    if at:
        _check_userinfo(userinfo)
    if not hosts:
        raise Invalid(f"the host is missing after {scheme!r}")
    entries = hosts.split(",")
    for entry in entries:
        _check_host(entry)
    if scheme == _SRV:
        _check_srv_host(entries)


def _check_userinfo(userinfo: str) -> None:
    if "@" in userinfo or userinfo.count(":") > 1:
        raise Invalid(_ESCAPE)
    if not userinfo.partition(":")[0]:
        raise Invalid("the user name before '@' is empty")


def _check_host(entry: str) -> None:
    if not entry:
        raise Invalid("an empty host in the host list (a stray comma?)")
    if entry.endswith(".sock"):  # a Unix domain socket: no port
        return
    if entry.startswith("["):
        address, bracket, port = entry[1:].partition("]")
        if not bracket or not address:
            raise Invalid("an IPv6 address without its closing ']'")
        if port and not port.startswith(":"):
            raise Invalid("text after the ']' of an IPv6 address")
        _check_port(port[1:] if port else None)
        return
    if entry.count(":") > 1:
        raise Invalid(
            f"more than one ':' in a host (an IPv6 address goes in [brackets]; {_ESCAPE})"
        )
    host, colon, port = entry.partition(":")
    if not host:
        raise Invalid("the host is missing before ':port'")
    _check_port(port if colon else None)


def _check_port(port: str | None) -> None:
    if port is None:
        return
    if not _PORT.fullmatch(port):
        raise Invalid(_NO_NUMBER)
    if not 1 <= int(port) <= _MAX_PORT:
        raise Invalid(f"a port outside 1-{_MAX_PORT}")


def _check_srv_host(entries: list[str]) -> None:
    if len(entries) != 1:
        raise Invalid(f"{_SRV} takes one host name, not a list")
    if ":" in entries[0].rpartition("]")[2]:
        raise Invalid(f"{_SRV} takes no port (DNS tells the ports)")


MONGO_URI: Kind[str] = Kind(
    "a URI like mongodb://[user:password@]host[:port][,host...][/database][?options]"
    " or mongodb+srv://[user:password@]host[/database][?options]",
    str,
    check_mongo_uri,
    masked,
)
