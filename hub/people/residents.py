"""Residents of care homes, their NHS numbers and clinical flags, and CSV import."""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from nhs_number.validate import calculate_checksum
from nhs_number.validate import is_valid as nhs_number_is_valid

from hub.errors import RowErrors, ValidationError
from hub.people.plain_text import plain_name

CSV_COLUMNS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "nhs_number",
    "dnacpr",
    "end_of_life",
    "allergies",
    "alerts",
)
REQUIRED_CSV_COLUMNS = CSV_COLUMNS[:4]
MAX_CSV_ROWS = 5000
#: Scottish CHI numbers: the first six digits are the date of birth (DDMMYY).
_CHI_FIRST, _CHI_LAST = 100_000_000, 3_112_999_999
_TRUE = {"1", "y", "yes", "true", "x"}
_FALSE = {"", "0", "n", "no", "false"}


@dataclass(frozen=True)
class ResidentDetails:
    """What a person enters about a resident; validated on construction by ``parse``."""

    given_name: str
    family_name: str
    date_of_birth: date
    nhs_number: str
    dnacpr: bool = False
    end_of_life: bool = False
    allergies: str = ""
    alerts: str = ""

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @classmethod
    def parse(
        cls,
        *,
        given_name: str,
        family_name: str,
        date_of_birth: str | date,
        nhs_number: str,
        dnacpr: bool | str = False,
        end_of_life: bool | str = False,
        allergies: str = "",
        alerts: str = "",
        today: date,
    ) -> ResidentDetails:
        return cls(
            given_name=_name(given_name, "given_name", "given name"),
            family_name=_name(family_name, "family_name", "family name"),
            date_of_birth=_dob(date_of_birth, today),
            nhs_number=parse_nhs_number(nhs_number),
            dnacpr=_flag(dnacpr, "dnacpr", "DNACPR"),
            end_of_life=_flag(end_of_life, "end_of_life", "end-of-life care"),
            allergies=_free_text(allergies, "allergies"),
            alerts=_free_text(alerts, "alerts"),
        )


@dataclass(frozen=True)
class Resident:
    id: int
    home_id: int
    details: ResidentDetails
    created_at: datetime

    @property
    def display_name(self) -> str:
        return self.details.display_name


def parse_nhs_number(raw: str) -> str:
    """Ten digits (spaces or dashes allowed) with a valid modulus-11 check digit.

    Returned as ASCII digits: digits typed in another script (full-width ０-９ from a
    Japanese keyboard, Arabic-Indic ٠-٩) are the same number and are stored, compared
    and checked for duplicates as ASCII. Numbers of one repeated digit (0000000000,
    9999999999...) pass the check digit but are never issued."""
    digits = ascii_digits(raw)
    if digits is None or len(digits) != 10:
        raise ValidationError("NHS number must be 10 digits", field="nhs_number")
    if len(set(digits)) == 1:
        raise ValidationError(
            f"NHS number {digits} is never issued to a person: check it", field="nhs_number"
        )
    if not nhs_number_is_valid(digits):
        raise ValidationError(why_nhs_number_invalid(digits), field="nhs_number")
    return digits


def ascii_digits(raw: str) -> str | None:
    """The decimal digits of ``raw`` in ASCII, spaces and dashes dropped; None when
    anything else is in it."""
    out = []
    for ch in raw:
        if ch.isspace() or ch == "-":
            continue
        value = unicodedata.decimal(ch, None)
        if value is None:
            return None
        out.append(str(value))
    return "".join(out)


def format_nhs_number(digits: str) -> str:
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


def why_nhs_number_invalid(digits: str) -> str:
    """Say what is wrong with ten digits that are not a valid NHS or CHI number.

    Numbers from 0101000000 to 3112999999 are Scottish CHI numbers, whose first six
    digits are the date of birth as DDMMYY; every number ends in a modulus-11 check
    digit. Only what is actually wrong is named.
    """
    bad_check = calculate_checksum(digits[:9]) != int(digits[9])
    if _CHI_FIRST <= int(digits) <= _CHI_LAST and not _is_ddmmyy(digits[:6]):
        message = (
            f"NHS number {digits} is in the Scottish CHI range, but its first six digits "
            f"({digits[:6]}) are not a date of birth (DDMMYY)"
        )
        return message + (", and it fails its modulus-11 check digit" if bad_check else "")
    if bad_check:
        return f"NHS number {digits} fails its modulus-11 check digit"
    return f"NHS number {digits} is not a valid NHS number"


def _is_ddmmyy(six: str) -> bool:
    try:
        datetime.strptime(six, "%d%m%y")
    except ValueError:
        return False
    return True


def parse_csv(text: str, *, today: date) -> list[tuple[int, ResidentDetails]]:
    """Parse an uploaded resident list; all rows or none.

    Every bad row is reported with its spreadsheet line number (header = line 1), as are
    NHS numbers repeated inside the file. Duplicates against residents already stored
    are the service's job (it knows the database).
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED_CSV_COLUMNS if c not in header]
    if missing:
        raise RowErrors([(1, f"missing column(s): {', '.join(missing)}")])
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if unknown:
        raise RowErrors([(1, f"unknown column(s): {', '.join(unknown)}")])
    reader.fieldnames = header
    rows: list[tuple[int, ResidentDetails]] = []
    errors: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(reader):
        line = index + 2
        if index >= MAX_CSV_ROWS:
            errors.append((line, f"too many rows: at most {MAX_CSV_ROWS} per upload"))
            break
        if None in raw:
            errors.append((line, "more cells than columns"))
            continue
        values = {k: (v or "").strip() for k, v in raw.items()}
        try:
            details = ResidentDetails.parse(
                given_name=values.get("given_name", ""),
                family_name=values.get("family_name", ""),
                date_of_birth=values.get("date_of_birth", ""),
                nhs_number=values.get("nhs_number", ""),
                dnacpr=values.get("dnacpr", ""),
                end_of_life=values.get("end_of_life", ""),
                allergies=values.get("allergies", ""),
                alerts=values.get("alerts", ""),
                today=today,
            )
        except ValidationError as e:
            errors.append((line, e.message))
            continue
        if details.nhs_number in seen:
            errors.append(
                (line, f"NHS number {details.nhs_number} repeats line {seen[details.nhs_number]}")
            )
            continue
        seen[details.nhs_number] = line
        rows.append((line, details))
    if errors:
        raise RowErrors(errors)
    if not rows:
        raise RowErrors([(1, "the file has no resident rows")])
    return rows


def _name(raw: str, field: str, label: str) -> str:
    value = plain_name(raw, field=field, label=label)
    if not value:
        raise ValidationError(f"{label} is required", field=field)
    if len(value) > 100:
        raise ValidationError(f"{label} must be at most 100 characters", field=field)
    return value


def _dob(raw: str | date, today: date) -> date:
    if isinstance(raw, date):
        value = raw
    else:
        try:
            value = date.fromisoformat(raw.strip())
        except ValueError:
            raise ValidationError(
                f"date of birth must be a date like 1934-05-21, got {raw!r}",
                field="date_of_birth",
            ) from None
    if value > today:
        raise ValidationError("date of birth is in the future", field="date_of_birth")
    if value.year < today.year - 125:
        raise ValidationError("date of birth is more than 125 years ago", field="date_of_birth")
    return value


def _flag(raw: bool | str, field: str, label: str) -> bool:
    if isinstance(raw, bool):
        return raw
    lowered = raw.strip().lower()
    if lowered in _TRUE or lowered == "on":
        return True
    if lowered in _FALSE:
        return False
    raise ValidationError(f"{label} must be yes or no, got {raw!r}", field=field)


def _free_text(raw: str, field: str) -> str:
    value = raw.strip()
    if len(value) > 2000:
        raise ValidationError(f"{field} must be at most 2000 characters", field=field)
    return value
