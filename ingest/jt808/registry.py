"""Which terminal is which vehicle (the catalog), and the auth codes the gateway issues."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum

from hazardwatch.contracts.catalog import Catalog
from hazardwatch.contracts.catalog.model import Terminal
from hazardwatch.ingest.jt808.bodies import Register
from hazardwatch.ingest.jt808.encode import RegisterResult
from hazardwatch.ingest.jt808.header import phone_key
from hazardwatch.ingest.jt808.variants import ActiveSafety


class Refusal(StrEnum):
    """Why a registration or authentication was refused (counted and logged once)."""

    UNKNOWN_TERMINAL = "unknown_terminal"
    TERMINAL_ID_MISMATCH = "terminal_id_mismatch"
    BAD_AUTH_CODE = "bad_auth_code"


@dataclass(frozen=True, slots=True)
class Known:
    """A terminal found in the catalog (its settings resolved once, not per position)."""

    vehicle_id: str
    terminal: Terminal
    active_safety: ActiveSafety = ActiveSafety.JSATL  # the provincial alarm-tag layout
    utc_offset_s: int = 8 * 3600  # the terminal's clock offset in seconds

    @classmethod
    def of(cls, vehicle_id: str, terminal: Terminal) -> Known:
        """From the catalog's terminal."""
        return cls(vehicle_id, terminal, ActiveSafety(terminal.active_safety),
                   round(terminal.utc_offset_h * 3600))


class Registry:
    """Looks terminals up by phone key; auth codes are an HMAC of the key (stable across
    restarts and gateway processes, so terminals register once and authenticate on each
    connection)."""

    def __init__(self, catalog: Catalog, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the JT/T 808 auth secret must have at least 16 bytes")
        self.catalog = catalog
        self._secret = secret

    def find(self, phone: str) -> Known | None:
        """The vehicle of a terminal phone (as sent, any zero padding), or None."""
        vid = self.catalog.terminals.get(phone_key(phone))
        if vid is None:
            return None
        terminal = self.catalog.vehicles[vid].terminal
        assert terminal is not None
        return Known.of(vid, terminal)

    def auth_code(self, phone: str) -> str:
        """The auth code of a terminal: 16 hex digits."""
        mac = hmac.new(self._secret, phone_key(phone).encode(), hashlib.sha256)
        return mac.hexdigest()[:16]

    def alarm_number(self, phone: str, tag: bytes) -> str:
        """The 32-character number the platform gives an alarm's attachments (0x9208): an HMAC
        of the phone key and the alarm tag, so any gateway process can check it."""
        mac = hmac.new(self._secret, b"alarm|" + phone_key(phone).encode() + bytes(tag[:16]),
                       hashlib.sha256)
        return mac.hexdigest()[:32]

    def register(self, phone: str, body: Register) -> tuple[RegisterResult, Refusal | None]:
        """The 0x8100 result of a registration (0 ok, 4 no such terminal)."""
        known = self.find(phone)
        if known is None:
            return RegisterResult.NO_TERMINAL, Refusal.UNKNOWN_TERMINAL
        want = known.terminal.terminal_id
        if want is not None and body.terminal_id.lstrip("0") != want.lstrip("0"):
            return RegisterResult.NO_TERMINAL, Refusal.TERMINAL_ID_MISMATCH
        return RegisterResult.OK, None

    def authenticate(self, phone: str, code: str) -> tuple[Known | None, Refusal | None]:
        """The vehicle if the code is the one issued to this phone."""
        known = self.find(phone)
        if known is None:
            return None, Refusal.UNKNOWN_TERMINAL
        if not hmac.compare_digest(code.encode(), self.auth_code(phone).encode()):
            return None, Refusal.BAD_AUTH_CODE
        return known, None
