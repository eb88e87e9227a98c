"""A demo database: three care homes, their residents, hub staff and months of past calls.

Generation is pure (``plan_*`` and ``generate_consultations`` take a ``random.Random``
and return data) and deterministic for a given seed and clock; ``seed`` stores it
through the audited admin services and the repository ports, on a fresh database.
Clinical figures follow the service's published ones: calls answered in ~2–3 minutes
by day, ~30% needing no onward care, ~87% of residents staying in the home.
"""

from __future__ import annotations

import base64
import calendar
import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import nhs_number

from hub.access import SYSTEM, Role, Skill
from hub.admin import add_resident, create_home, create_staff
from hub.audit import AuditRecord
from hub.auth import totp_context
from hub.consultations import SOFT_SIGNS, Consultation, Reason, State
from hub.context import HubContext
from hub.enrolment import issue_code
from hub.homes import NewHome
from hub.news2 import Consciousness, Observations, score
from hub.residents import ResidentDetails
from hub.staff import NewStaff

# TODO: use Intention, OutcomeCode, FollowUp and AdmissionJudgement from hub.outcomes
# once it lands; the string literals below are their values.

DEMO_PASSWORD = "telehub-demo-password"
NEWSTARTER = "newstarter"  # the one login left to set up two-factor at first login
BATCH = 300  # consultations per unit of work


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: Role
    display_name: str
    totp_secret: str | None


@dataclass(frozen=True)
class DemoSummary:
    logins: list[DemoLogin]
    enrolment_codes: list[tuple[str, str]]  # (home name, plain enrolment code)
    homes: int
    residents: int
    consultations: int


@dataclass(frozen=True)
class ResidentRef:
    """What the call generator needs to know about a stored resident."""

    id: int
    home_id: int
    end_of_life: bool


# --- homes, residents, staff -----------------------------------------------------------

_HOMES = (
    ("Rosewood Court Care Home", "14 Skipton Road, Keighley, West Yorkshire BD21 2TA"),
    ("Aire View Nursing Home", "Bradley Lane, Steeton, Keighley BD20 6RR"),
    ("Hollins Park House", "2 Crossbeck Road, Ilkley, West Yorkshire LS29 9JP"),
    ("The Laurels Residential Home", "37 Cavendish Street, Skipton BD23 2AB"),
    ("Wharfedale Lodge", "Leeds Road, Otley LS21 1BZ"),
)
# (weight, female given names, male given names, family names), born 1925–1950.
_NAMES = (
    (
        70,
        "Margaret Dorothy Joan Betty Doris Jean Eileen Irene Sheila Barbara Audrey Kathleen "
        "Elsie Edna Mavis Brenda Pauline Marjorie Vera Hilda Sylvia Winifred",
        "Arthur Harold Kenneth Ronald Dennis Stanley Frederick Leslie Norman Derek Raymond "
        "Geoffrey Bernard Alan Clifford Eric",
        "Smith Jones Taylor Brown Wilson Roberts Walker Robinson Wood Thompson Wright Hughes "
        "Green Hall Clarke Jackson Holmes Sutcliffe Pickles Ackroyd Barraclough Greenwood",
    ),
    (8, "Bronwen Gwen Megan Glenys", "Dafydd Gareth Emrys Idris", "Davies Evans Griffiths"),
    (6, "Siobhan Bridget Moira Maureen", "Eamon Patrick Seamus", "Murphy O'Brien Kelly Byrne"),
    (6, "Surinder Gurmit Kulwant", "Rajinder Gurdial Harbans", "Singh Kaur Sandhu Gill"),
    (5, "Zubeda Rashida Begum", "Mohammed Abdul Ghulam", "Hussain Khan Ahmed Akhtar"),
    (5, "Hyacinth Gloria Myrtle", "Winston Delroy Lloyd", "Campbell Francis Bailey"),
    (3, "Halina Krystyna", "Zbigniew Tadeusz", "Kowalski Nowak"),
)
_ALLERGIES = ("Penicillin", "Latex", "Codeine", "Trimethoprim", "Elastoplast", "Sulfonamides")
_ALERTS = (
    "Hard of hearing; speaks Welsh",
    "Registered blind: say who you are before you speak",
    "Type 2 diabetes on insulin",
    "Dementia: responds best to her first name",
    "Punjabi speaker; son interprets",
    "Warfarin: check INR book",
    "PEG fed, nil by mouth",
    "Lasting power of attorney (health): daughter",
    "COPD, home oxygen 2 L/min",
    "Parkinson's: time-critical medication",
)
# username, display name, role, skills; clinicians are listed before the newstarter.
_STAFF: tuple[tuple[str, str, Role, tuple[Skill, ...]], ...] = (
    ("admin", "Alex Morgan", Role.ADMIN, ()),
    ("manager", "Priya Shah", Role.MANAGER, ()),
    ("nurse1", "Hannah Clarke", Role.CLINICIAN, (Skill.CLINICIAN,)),
    ("nurse2", "Tom Fletcher", Role.CLINICIAN, (Skill.CLINICIAN, Skill.SENIOR_CLINICIAN)),
    (
        "nurse3",
        "Bukola Adeyemi",
        Role.CLINICIAN,
        (Skill.CLINICIAN, Skill.SENIOR_CLINICIAN, Skill.PRESCRIBER),
    ),
    ("nurse4", "Gareth Pritchard", Role.CLINICIAN, (Skill.CLINICIAN, Skill.PRESCRIBER)),
    (NEWSTARTER, "Sophie Allen", Role.CLINICIAN, (Skill.CLINICIAN,)),
)


def rng_for(seed: int, topic: str) -> random.Random:
    """One generator per topic, so adding a resident does not reshuffle every call."""
    return random.Random(f"{seed}:{topic}")


def plan_homes(rng: random.Random) -> list[NewHome]:
    letters = "ABCDEFGHJKLMNPQRSTUVWXY"
    homes = []
    for name, address in rng.sample(_HOMES, 3):
        code = "V" + "".join(rng.choices(letters, k=2)) + str(rng.randint(1, 9)) + rng.choice(letters)
        homes.append(NewHome.parse(code, name, address, rng.randint(30, 60)))
    return homes


def test_nhs_numbers(rng: random.Random, count: int) -> list[str]:
    """Distinct valid NHS numbers in the 999 range, which is reserved for testing."""
    found: dict[str, None] = {}
    while len(found) < count:
        stem = f"999{rng.randrange(10**6):06d}"
        check = nhs_number.calculate_checksum(stem)
        if check is not None and check != 10:
            found[f"{stem}{check}"] = None
    return list(found)


def plan_residents(rng: random.Random, homes: int, today: date) -> list[list[ResidentDetails]]:
    """About ten residents per home, most of them women, born 1925–1950."""
    counts = [rng.randint(9, 11) for _ in range(homes)]
    numbers = iter(test_nhs_numbers(rng, sum(counts)))
    used: set[tuple[str, str]] = set()
    plan: list[list[ResidentDetails]] = []
    for count in counts:
        residents = []
        while len(residents) < count:
            _, female, male, family = rng.choices(_NAMES, weights=[g[0] for g in _NAMES])[0]
            given = rng.choice((female if rng.random() < 0.68 else male).split())
            name = (given, rng.choice(family.split()))
            if name in used:
                continue
            used.add(name)
            end_of_life = rng.random() < 0.12
            allergies = rng.sample(_ALLERGIES, rng.choice((1, 1, 2))) if rng.random() < 0.3 else []
            residents.append(
                ResidentDetails.parse(
                    given_name=name[0],
                    family_name=name[1],
                    date_of_birth=date(1925, 1, 1) + timedelta(days=rng.randrange(26 * 365)),
                    nhs_number=next(numbers),
                    dnacpr=end_of_life or rng.random() < 0.4,
                    end_of_life=end_of_life,
                    allergies=", ".join(allergies),
                    alerts=rng.choice(_ALERTS) if rng.random() < 0.35 else "",
                    today=today,
                )
            )
        plan.append(residents)
    return plan


def plan_staff() -> list[NewStaff]:
    return [NewStaff(u, name, role, frozenset(skills)) for u, name, role, skills in _STAFF]


def totp_secret(rng: random.Random) -> str:
    """A base32 TOTP secret (what ``pyotp.random_base32`` makes), but from ``rng``."""
    return base64.b32encode(rng.randbytes(20)).decode()


# --- consultations ---------------------------------------------------------------------

# Relative arrivals by local hour: quiet nights, a morning round, an evening peak.
_HOUR_WEIGHTS = (2, 1.5, 1.2, 1, 1, 1.2, 2, 4, 6, 7, 7, 6, 5, 5, 5.5, 6, 6.5, 7, 7.5, 7, 6, 5, 4, 3)
_REASONS = {
    Reason.FALL: 28.0,
    Reason.BREATHING: 20.0,
    Reason.INFECTION: 12.0,
    Reason.CONFUSION: 10.0,
    Reason.PAIN: 7.0,
    Reason.SKIN_WOUND: 6.0,
    Reason.MEDICATION: 6.0,
    Reason.CHEST_PAIN: 4.0,
    Reason.OTHER: 5.0,
}
_SIGNS = {
    Reason.FALL: ("less_mobile", "new_pain"),
    Reason.BREATHING: ("breathing_changed", "skin_colour", "not_themselves"),
    Reason.INFECTION: ("passing_less_urine", "not_eating", "more_confused", "vomiting_diarrhoea"),
    Reason.CONFUSION: ("more_confused", "agitated", "not_themselves"),
    Reason.PAIN: ("new_pain", "agitated"),
    Reason.CHEST_PAIN: ("new_pain", "breathing_changed", "skin_colour"),
    Reason.END_OF_LIFE: ("not_eating", "breathing_changed", "agitated"),
}
_LEAVES_HOME = {"called_999_conveyed", "sent_to_ae", "admitted_direct"}
_NOTES = {
    Reason.FALL: "Unwitnessed fall in bedroom, found on floor. No head strike reported.",
    Reason.BREATHING: "More breathless since this morning, productive cough.",
    Reason.INFECTION: "Off food and drink for 2 days, urine dark and offensive.",
    Reason.CONFUSION: "Acutely more confused than usual per carers, pulling at clothes.",
    Reason.PAIN: "New pain, grimacing on movement; last analgesia 6 h ago.",
    Reason.SKIN_WOUND: "Skin tear to forearm after knock on wheelchair, oozing.",
    Reason.MEDICATION: "Evening dose omitted in error; carers asking for advice.",
    Reason.CHEST_PAIN: "Central chest tightness 20 min, settled at rest.",
    Reason.END_OF_LIFE: "Known end of life, family present. Restless and distressed.",
    Reason.OTHER: "Carers concerned, not their usual self.",
}
_OUTCOME_NOTES = {
    "managed_advice": "Advice to staff, repeat obs in 4 h.",
    "managed_medication": "Medication advised and recorded on MAR chart.",
    "managed_monitoring": "Monitoring plan agreed; 4-hourly obs overnight.",
    "gp_in_hours": "Practice contacted for a same-day GP visit.",
    "gp_out_of_hours": "Referred to out-of-hours GP.",
    "community_team": "Referred to district nurses for review today.",
    "called_999_conveyed": "999 called; conveyed to hospital.",
    "called_999_not_conveyed": "999 called; crew assessed and left in home.",
    "sent_to_ae": "Sent to A&E by taxi with a carer.",
    "admitted_direct": "Direct admission to frailty unit arranged.",
    "end_of_life_support": "Anticipatory medicines given per plan; family updated.",
    "other": "Plan discussed with home manager.",
}


def demo_period(now: datetime, months: int) -> tuple[datetime, datetime]:
    """[start, end): ``months`` whole calendar months ending at UK midnight this morning."""
    zone = uk_zone()
    end_day = now.astimezone(zone).date()
    y, m = divmod(end_day.year * 12 + end_day.month - 1 - months, 12)
    start_day = date(y, m + 1, min(end_day.day, calendar.monthrange(y, m + 1)[1]))
    start = datetime.combine(start_day, time(), zone).astimezone(UTC)
    return start, datetime.combine(end_day, time(), zone).astimezone(UTC)


def uk_zone() -> tzinfo:
    try:
        return ZoneInfo("Europe/London")
    except ZoneInfoNotFoundError:  # no time-zone database: UTC is close enough for a demo
        return UTC


def generate_consultations(
    rng: random.Random,
    residents: Sequence[ResidentRef],
    clinicians: Sequence[int],
    start: datetime,
    end: datetime,
) -> list[Consultation]:
    """Ended (and a few cancelled) calls requested in [start, end), oldest first."""
    zone = uk_zone()
    calls = []
    for home_id in sorted({r.home_id for r in residents}):
        here = [r for r in residents if r.home_id == home_id]
        # A few residents call far more often than the rest; end of life calls more.
        propensity = [rng.lognormvariate(0, 0.8) * (2 if r.end_of_life else 1) for r in here]
        rate = rng.uniform(2.2, 3.8)
        day = start.astimezone(zone).date()
        while day < end.astimezone(zone).date():
            for _ in range(_poisson(rng, rate * (1.15 if day.weekday() >= 5 else 1))):
                hour = rng.choices(range(24), weights=_HOUR_WEIGHTS)[0]
                local = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)))
                resident = rng.choices(here, weights=propensity)[0]
                call = _call(rng, resident, clinicians, local.replace(tzinfo=zone))
                if start <= call.requested_at and (call.ended_at or call.requested_at) < end:
                    calls.append(call)
            day += timedelta(days=1)
    return sorted(calls, key=lambda c: c.requested_at)


def _poisson(rng: random.Random, mean: float) -> int:
    limit, n, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        n, p = n + 1, p * rng.random()
    return n


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _call(
    rng: random.Random, resident: ResidentRef, clinicians: Sequence[int], local: datetime
) -> Consultation:
    if resident.end_of_life and rng.random() < 0.45:
        reason = Reason.END_OF_LIFE
    else:
        reason = Reason(_weighted(rng, dict(_REASONS)))
    likely = _SIGNS.get(reason, ())
    signs = [rng.choice(likely)] if likely else []
    signs += rng.sample(sorted(SOFT_SIGNS), 3)
    signs = list(dict.fromkeys(signs))[: rng.choice((1, 2, 2, 3))]
    severity = rng.betavariate(1.3, 4.5)  # 0–1, mostly mild
    observations: dict[str, object] = {}
    news2_score = news2_band = None
    if rng.random() < 0.7:
        obs = _observations(rng, reason, severity)
        result = score(obs)
        observations = _dump(obs)
        news2_score, news2_band = result.aggregate, result.band.value
    intention = _intention(rng, reason, severity, resident)
    requested = local.astimezone(UTC)
    base = Consultation(
        id=0,
        home_id=resident.home_id,
        resident_id=resident.id,
        device_id=None,
        state=State.ENDED,
        reason=reason,
        soft_signs=tuple(signs),
        observations=observations,
        news2_score=news2_score,
        news2_band=news2_band,
        intention=intention,
        requested_at=requested,
    )
    if rng.random() < 0.03:  # the home cancelled, or gave up waiting
        state = State.CANCELLED if rng.random() < 0.6 else State.ABANDONED
        return replace(base, state=state, ended_at=requested + _minutes(rng.uniform(0.5, 8)))
    hour = local.hour
    median = 4.0 if hour >= 23 or hour < 7 else 3.3 if 17 <= hour < 21 else 2.3
    answered = requested + _minutes(min(20.0, max(0.25, rng.lognormvariate(math.log(median), 0.55))))
    outcome = _outcome(rng, reason, severity, resident, local)
    stays = outcome not in _LEAVES_HOME
    if not stays:
        follow_up = "none"
    elif outcome.startswith("managed") or outcome == "called_999_not_conveyed":
        follow_up = _weighted(rng, {"call_back": 45, "home_to_call_if_worse": 45, "none": 10})
    else:
        follow_up = _weighted(rng, {"call_back": 25, "home_to_call_if_worse": 60, "none": 15})
    judgement = None
    if stays and intention in ("call_999", "ae"):
        yes = 0.25 + 0.6 * severity
        judgement = _weighted(rng, {"yes": yes, "no": (1 - yes) * 0.7, "unsure": (1 - yes) * 0.3})
    news2 = f" NEWS2 {news2_score} ({news2_band})." if news2_score is not None else ""
    return replace(
        base,
        answered_at=answered,
        ended_at=answered + _minutes(rng.triangular(5, 25, 10)),
        answered_by=rng.choice(clinicians),
        outcome=outcome,
        follow_up=follow_up,
        admission_judgement=judgement,
        security_level="turn" if rng.random() < 0.15 else "p2p",
        notes=f"{_NOTES[reason]}{news2} {_OUTCOME_NOTES[outcome]}",
    )


def _minutes(m: float) -> timedelta:
    return timedelta(seconds=round(m * 60))


def _observations(rng: random.Random, reason: Reason, s: float) -> Observations:
    chest = reason in (Reason.BREATHING, Reason.INFECTION, Reason.CHEST_PAIN)
    confused = 0.3 + 0.4 * s if reason is Reason.CONFUSION or s > 0.5 else 0.02
    fever = 2.0 * s if reason is Reason.INFECTION else 0.4 * s
    full = Observations(
        respiration_rate=_clamp(rng.gauss(17 + (10 if chest else 5) * s, 2), 6, 45),
        spo2=_clamp(rng.gauss(96.5 - (9 if chest else 3) * s, 1.3), 70, 100),
        on_oxygen=rng.random() < 0.02 + (0.2 * s if chest else 0),
        systolic_bp=_clamp(rng.gauss(136 - 35 * s, 16), 60, 220),
        pulse=_clamp(rng.gauss(78 + 35 * s, 10), 35, 160),
        consciousness=(
            Consciousness.VOICE
            if rng.random() < 0.08 * s
            else Consciousness.NEW_CONFUSION
            if rng.random() < confused
            else Consciousness.ALERT
        ),
        temperature=round(min(41.0, max(34.0, rng.gauss(36.8 + fever, 0.35))), 1),
    )
    if rng.random() < 0.3:  # a partial set: carers often cannot count breaths or take a BP
        optional = ("respiration_rate", "systolic_bp", "temperature", "on_oxygen", "consciousness")
        dropped = rng.sample(optional, rng.randint(1, 3))
        full = replace(full, **dict.fromkeys(dropped))
    return full


def _clamp(value: float, lo: int, hi: int) -> int:
    return min(hi, max(lo, round(value)))


def _dump(obs: Observations) -> dict[str, object]:
    """The raw values as JSON: only what was measured (``Observations(**d)`` rebuilds it)."""
    raw: dict[str, object] = {
        "respiration_rate": obs.respiration_rate,
        "spo2": obs.spo2,
        "spo2_scale": int(obs.spo2_scale) if obs.spo2 is not None else None,
        "on_oxygen": obs.on_oxygen,
        "systolic_bp": obs.systolic_bp,
        "pulse": obs.pulse,
        "consciousness": obs.consciousness.value if obs.consciousness else None,
        "temperature": obs.temperature,
    }
    return {k: v for k, v in raw.items() if v is not None}


def _intention(rng: random.Random, reason: Reason, s: float, r: ResidentRef) -> str | None:
    """What the home says it would have done without the hub (~5% not recorded)."""
    if rng.random() < 0.05:
        return None
    fall = 1.5 if reason is Reason.FALL else 1.0
    eol = 0.3 if r.end_of_life else 1.0
    return _weighted(
        rng,
        {
            "call_999": 28 * (1 + 2 * s) * fall * eol,
            "ae": 16 * (1 + s) * eol,
            "urgent_gp": 33.0,
            "call_111": 12.0,
            "manage": 8 * (1 - s) / eol,
        },
    )


def _outcome(
    rng: random.Random, reason: Reason, s: float, r: ResidentRef, local: datetime
) -> str:
    if r.end_of_life and (reason is Reason.END_OF_LIFE or rng.random() < 0.4):
        return "end_of_life_support"
    in_hours = local.weekday() < 5 and 8 <= local.hour < 18
    meds = 1.8 if reason in (Reason.INFECTION, Reason.PAIN, Reason.MEDICATION) else 1.0
    leave = 0.25 if r.end_of_life else 1.0
    return _weighted(
        rng,
        {
            "managed_advice": 15 * (1 - s),
            "managed_medication": 8 * meds,
            "managed_monitoring": 10 * (1 - s / 2),
            "gp_in_hours" if in_hours else "gp_out_of_hours": 26.0,
            "community_team": 12 * (2 if reason is Reason.SKIN_WOUND else 1),
            "called_999_not_conveyed": 3 * (1 + 3 * s),
            "called_999_conveyed": (1 + 25 * s * s) * leave,
            "sent_to_ae": (1 + 18 * s * s) * leave * (1.5 if reason is Reason.FALL else 1),
            "admitted_direct": (0.5 + 6 * s * s) * leave,
            "other": 3.0,
        },
    )


# --- storing it --------------------------------------------------------------------------


async def seed(
    ctx: HubContext,
    *,
    seed: int = 7,
    months: int = 6,
    on_progress: Callable[[int, int], None] | None = None,
) -> DemoSummary:
    """Fill a fresh database with the demo; ``on_progress(done, total)`` after each batch."""
    now = ctx.clock.now()
    homes = [await create_home(ctx, SYSTEM, new) for new in plan_homes(rng_for(seed, "homes"))]
    refs = []
    plan = plan_residents(rng_for(seed, "residents"), len(homes), now.date())
    for home, residents in zip(homes, plan, strict=True):
        for details in residents:
            stored = await add_resident(ctx, SYSTEM, home.id, details)
            refs.append(ResidentRef(stored.id, home.id, details.end_of_life))

    secrets_rng = rng_for(seed, "totp")
    logins, clinicians = [], []
    async with ctx.uow() as uow:
        for new in plan_staff():
            user = await create_staff(ctx, SYSTEM, new, DEMO_PASSWORD)
            secret = None if new.username == NEWSTARTER else totp_secret(secrets_rng)
            if secret is not None:
                sealed = ctx.keyring.seal(secret, totp_context(user.id))
                await uow.staff.set_totp(user.id, sealed, True)
                await uow.audit.append(
                    AuditRecord("staff.totp_set", SYSTEM.ref, "staff", str(user.id), {}), now
                )
                if user.role is Role.CLINICIAN:
                    clinicians.append(user.id)
            logins.append(DemoLogin(user.username, DEMO_PASSWORD, user.role, user.display_name, secret))
        await uow.commit()

    codes = [(h.name, (await issue_code(ctx, SYSTEM, h.id, "Demo tablet")).code) for h in homes]

    start, end = demo_period(now, months)
    calls = generate_consultations(rng_for(seed, "calls"), refs, clinicians, start, end)
    if on_progress:
        on_progress(0, len(calls))
    for first in range(0, len(calls), BATCH):
        batch = calls[first : first + BATCH]
        async with ctx.uow() as uow:
            for call in batch:
                await uow.consultations.add(call)
            for home_id, n in sorted(Counter(c.home_id for c in batch).items()):
                detail = {"count": n, "source": "demo"}
                record = AuditRecord("consultation.imported", SYSTEM.ref, "home", str(home_id), detail)
                await uow.audit.append(record, ctx.clock.now())
            await uow.commit()
        if on_progress:
            on_progress(first + len(batch), len(calls))
    return DemoSummary(logins, codes, len(homes), len(refs), len(calls))
