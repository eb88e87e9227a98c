"""Care homes: the places that call the hub."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from hub.errors import ValidationError
from hub.people.plain_text import plain_name

# ODS organisation codes for care homes are letters and digits, 3 to 10 long
# (e.g. "VNA3K"); we accept that shape, upper-cased.
_CODE = re.compile(r"^[A-Z0-9]{3,10}$")


@dataclass(frozen=True)
class CareHome:
    id: int
    code: str
    name: str
    address: str
    beds: int
    created_at: datetime


@dataclass(frozen=True)
class NewHome:
    code: str
    name: str
    address: str
    beds: int

    @classmethod
    def parse(cls, code: str, name: str, address: str, beds: str | int) -> NewHome:
        code = code.strip().upper()
        if not _CODE.match(code):
            raise ValidationError(
                "home code must be 3–10 letters or digits (an ODS-style code)", field="code"
            )
        name = plain_name(name, field="name", label="home name")
        if not name or len(name) > 200:
            raise ValidationError("home name must be 1–200 characters", field="name")
        address = address.strip()
        for line in address.splitlines():  # lines are kept; each is checked like a name
            plain_name(line, field="address", label="address")
        if len(address) > 500:
            raise ValidationError("address must be at most 500 characters", field="address")
        try:
            bed_count = int(beds)
        except (TypeError, ValueError):
            raise ValidationError(
                f"bed count must be a whole number, got {beds!r}", field="beds"
            ) from None
        if not 1 <= bed_count <= 1000:
            raise ValidationError("bed count must be between 1 and 1000", field="beds")
        return cls(code=code, name=name, address=address, beds=bed_count)
