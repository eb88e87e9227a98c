"""Who is acting, and what they may see.

Care-home tablets see only their own home; staff rights come from their role. A
resident of another home is reported as *not found* (not "forbidden") so a tablet
cannot even learn that the record exists — and the attempt is audited by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hub.errors import Forbidden


class Role(StrEnum):
    CLINICIAN = "clinician"
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Skill(StrEnum):
    CLINICIAN = "clinician"
    SENIOR_CLINICIAN = "senior_clinician"
    PRESCRIBER = "prescriber"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Actor:
    """The authenticated party behind a request: a staff user or an enrolled tablet."""

    kind: str  # "staff" | "device" | "system"
    id: int
    name: str
    role: Role | None = None
    home_id: int | None = None  # set for tablets (and home-scoped managers)

    @property
    def ref(self) -> str:
        """How the audit trail names this actor."""
        return f"{self.kind}:{self.id}"

    @property
    def is_device(self) -> bool:
        return self.kind == "device"

    def can_see_home(self, home_id: int) -> bool:
        if self.kind == "system":
            return True
        if self.home_id is not None:
            return self.home_id == home_id
        return self.kind == "staff"


SYSTEM = Actor(kind="system", id=0, name="telehub")


def require_role(actor: Actor, *roles: Role) -> None:
    if actor.kind == "system":
        return
    if actor.kind != "staff" or actor.role not in roles:
        allowed = " or ".join(r.value for r in roles)
        raise Forbidden(f"this needs the {allowed} role")
