"""Customer identifiers as pseudonyms. A call's customer phone number and customer id, and a
text interaction's sender address (upload metadata) are never stored: each is normalised and replaced by an HMAC-SHA256 under the
deployment's secret, so the feed, aggregates and joins across calls work without personal data,
and one customer's calls can be found (and erased) by presenting the identifier again.

The secret is ``CALLSCOPE_PSEUDONYM_KEY`` (at least 32 characters). Without it a random one is
made on first use and kept in ``<data dir>/pseudonym.key`` (mode 0600): enough for one machine;
a deployment with API and workers on several machines must set the variable, the same on each.
Losing the secret loses the link between new and old calls of the same customer.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path
from typing import Literal

Kind = Literal["phone", "customer_id", "email"]
MIN_PHONE_DIGITS = 5


def normalise_phone(raw: str) -> str:
    """A phone number as digits with its international ``+`` (``00`` counts as ``+``): spaces,
    dashes, dots and brackets dropped. ValueError if it is not a phone number."""
    text = raw.strip()
    if re.fullmatch(r"\+?[\d\s().\-/]+", text) is None:
        raise ValueError("not a phone number: only digits, spaces, + ( ) - . / are allowed")
    digits = re.sub(r"\D", "", text)
    international = text.startswith("+") or digits.startswith("00")
    digits = digits[2:] if digits.startswith("00") else digits
    if len(digits) < MIN_PHONE_DIGITS:
        raise ValueError(f"not a phone number: fewer than {MIN_PHONE_DIGITS} digits")
    return ("+" if international else "") + digits


def normalise_email(raw: str) -> str:
    """An e-mail address trimmed and case-folded, ``Name <a@b>`` taken as ``a@b``. ValueError if it
    is not one."""
    text = raw.strip()
    found = re.fullmatch(r"[^<>]*<\s*([^<>\s]+)\s*>\s*", text)
    address = (found.group(1) if found else text).casefold()
    if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address) is None:
        raise ValueError("not an e-mail address")
    return address


def normalise_customer_id(raw: str) -> str:
    """A customer id trimmed and case-folded (``AB-12`` and ``ab-12 `` are one customer)."""
    text = raw.strip().casefold()
    if not text:
        raise ValueError("empty customer id")
    return text


def pseudonym(secret: bytes, kind: Kind, raw: str) -> str:
    """The keyed hash (64 hex characters) of an identifier after normalisation."""
    value = (normalise_phone(raw) if kind == "phone" else normalise_email(raw) if kind == "email"
             else normalise_customer_id(raw))
    return hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def candidates(secret: bytes, raw: str) -> dict[Kind, str]:
    """Every pseudonym ``raw`` can stand for: as a customer id, and as a phone number or an e-mail
    address if it is one (empty for a blank identifier)."""
    out: dict[Kind, str] = {}
    for kind in ("customer_id", "phone", "email"):
        try:
            out[kind] = pseudonym(secret, kind, raw)
        except ValueError:
            pass
    return out


def subject_refs(secret: bytes, identifier: str, kind: str = "any") -> dict[Kind, str]:
    """The pseudonyms to look a data subject up by: ``identifier`` as a customer id and as a phone
    number (``kind`` "any"), or as that kind only. ValueError for a blank identifier or one that
    is not of the kind asked for."""
    refs = candidates(secret, identifier)
    if not refs:
        raise ValueError("the identifier is blank")
    if kind == "any":
        return refs
    if kind not in refs:
        raise ValueError(f"'{kind}' identifier expected, and this is not one")
    return {kind: refs[kind]}


def deployment_secret(settings) -> bytes:
    """The secret of the deployment ``settings`` (a :class:`~callscope.service.config.ServiceSettings`) describes."""
    key = settings.pseudonym_key
    return load_secret(key.get_secret_value() if key else None, settings.data_dir)


def load_secret(configured: str | None, data_dir: Path) -> bytes:
    """The deployment's secret: the configured one, else ``<data_dir>/pseudonym.key`` (made once,
    0600)."""
    if configured:
        return configured.encode()
    path = data_dir / "pseudonym.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()
