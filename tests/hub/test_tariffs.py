"""Unit costs for cost avoided: the shipped file, the loader's errors, the sum."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from hub.outcomes.avoided import EVENTS, AvoidedCounts, avoided, tally
from hub.outcomes.codes import (
    DEFAULT_FOLLOW_UP_WINDOW,
    Intention,
    Representation,
    RepresentationKind,
    parse_outcome,
)
from hub.outcomes.tariffs import (
    DEFAULT_TARIFFS_FILE,
    Citation,
    TariffError,
    Tariffs,
    configured_tariffs,
    cost_avoided,
    cost_by_event,
    load_tariffs,
)

GOOD = """\
currency = "GBP"

[ae_attendance]
cost = 100.10
source = "S1"
year = "2021/22"

[call_999]
cost = 10
source = "S2"
year = "2021/22"

[conveyance]
cost = 200.20
source = "S3"
year = "2021/22"

[admission]
cost = 1000.00
source = "S4"
year = "2021/22"

[urgent_gp]
cost = 0.10
source = "S5"
year = "2023"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tariffs.toml"
    path.write_text(text)
    return path


def load_text(tmp_path: Path, text: str) -> Tariffs:
    return load_tariffs(write(tmp_path, text))


def test_the_shipped_file_loads_with_a_cited_figure_for_every_event() -> None:
    t = load_tariffs()
    assert t.currency == "GBP"
    for event in EVENTS:
        assert isinstance(t.unit_cost(event), Decimal) and t.unit_cost(event) > 0
        assert t.sources[event].source and t.sources[event].year
    assert (t.ae_attendance, t.call_999, t.conveyance, t.admission, t.urgent_gp) == (
        Decimal("265.00"),
        Decimal("9.00"),
        Decimal("457.00"),
        Decimal("4200.00"),
        Decimal("49.00"),
    )
    assert DEFAULT_TARIFFS_FILE.name == "tariffs.toml"


def test_the_shipped_figures_are_the_latest_publications_with_their_codes() -> None:
    """Issue 10, item 13: no more 2013-2018 figures; sources, years and currency codes
    named, and the file says to check them against the sources."""
    t = load_tariffs()
    for event in ("ae_attendance", "call_999", "conveyance", "admission"):
        assert t.sources[event].year == "2022/23"
        assert "2022/23 National Cost Collection Data Publication" in t.sources[event].source
    assert "VB01Z-VB11Z" in t.sources["ae_attendance"].source
    assert "ASS02 see and treat and convey" in t.sources["conveyance"].source
    assert "long stay (non-short stay)" in t.sources["admission"].source
    assert "Unit Costs of Health and Social Care 2023" in t.sources["urgent_gp"].source
    assert t.sources["urgent_gp"].year == "2022/23"
    text = DEFAULT_TARIFFS_FILE.read_text()
    assert "CHECK EVERY FIGURE AGAINST ITS SOURCE BEFORE QUOTING COST AVOIDED" in text
    assert not any(old in text for old in ("2013", "2016/17", "2017/18", "2012/13"))


def test_the_shipped_file_says_its_figures_are_approximate() -> None:
    text = DEFAULT_TARIFFS_FILE.read_text()
    assert text.count("# Approximate.") == len(EVENTS)


def test_costs_are_exact_decimals(tmp_path: Path) -> None:
    t = load_text(tmp_path, GOOD)
    assert t == Tariffs(
        currency="GBP",
        ae_attendance=Decimal("100.10"),
        call_999=Decimal("10"),
        conveyance=Decimal("200.20"),
        admission=Decimal("1000.00"),
        urgent_gp=Decimal("0.10"),
        sources=t.sources,
    )
    assert t.sources["urgent_gp"] == Citation(source="S5", year="2023")
    # 3 x 0.10 is exactly 0.30 (a float would give 0.30000000000000004).
    assert cost_avoided(AvoidedCounts(urgent_gp=3), t) == Decimal("0.30")


def test_sources_cannot_be_changed(tmp_path: Path) -> None:
    t = load_text(tmp_path, GOOD)
    with pytest.raises(TypeError):
        t.sources["ae_attendance"] = Citation("x", "y")  # type: ignore[index]


def test_cost_avoided(tmp_path: Path) -> None:
    t = load_text(tmp_path, GOOD)
    counts = AvoidedCounts(
        calls=9,
        attributable=8,
        ae_attendance=2,
        call_999=3,
        conveyance=1,
        admission=1,
        urgent_gp=4,
    )
    assert cost_by_event(counts, t) == {
        "ae_attendance": Decimal("200.20"),
        "call_999": Decimal("30"),
        "conveyance": Decimal("200.20"),
        "admission": Decimal("1000.00"),
        "urgent_gp": Decimal("0.40"),
    }
    assert cost_avoided(counts, t) == Decimal("1430.80")
    assert cost_avoided(AvoidedCounts(calls=5, attributable=2), t) == Decimal(0)


def test_unit_cost_of_an_unknown_event(tmp_path: Path) -> None:
    with pytest.raises(KeyError):
        load_text(tmp_path, GOOD).unit_cost("currency")


def test_zero_is_allowed(tmp_path: Path) -> None:
    t = load_text(tmp_path, GOOD.replace("cost = 0.10", "cost = 0"))
    assert t.urgent_gp == 0


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('currency = "GBP"\n', "", "currency is missing"),
        ('currency = "GBP"', 'currency = "gbp"', "currency 'gbp' is not a three-letter ISO 4217"),
        ('currency = "GBP"', "currency = 826", "currency 826 is not a three-letter ISO 4217"),
        ("[conveyance]\ncost = 200.20\n", "[conveyance]\n", "[conveyance] cost is missing"),
        ('source = "S2"\n', "", "[call_999] source is missing"),
        ('year = "2023"\n', "", "[urgent_gp] year is missing"),
        ('source = "S2"', 'source = " "', "[call_999] source must be non-empty text"),
        ('year = "2023"', "year = 2023", "[urgent_gp] year must be non-empty text"),
        ("cost = 200.20", "cost = -200.20", "[conveyance] cost -200.20 is negative"),
        ("cost = 10\n", "cost = -1\n", "[call_999] cost -1 is negative"),
        ("cost = 10\n", 'cost = "10"\n', "[call_999] cost must be a number, not '10'"),
        ("cost = 10\n", "cost = true\n", "[call_999] cost must be a number, not True"),
        ("cost = 10\n", "cost = nan\n", "[call_999] cost NaN is not a finite number"),
        ("cost = 10\n", "cost = inf\n", "[call_999] cost Infinity is not a finite number"),
        ('year = "2023"\n', 'year = "2023"\nnote = "x"\n', "[urgent_gp] has unknown key 'note'"),
        ("[admission]", "[admission_x]", "unknown tariff [admission_x]"),
    ],
)
def test_loader_errors(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(TariffError) as err:
        load_tariffs(path)
    assert err.value.message.startswith(f"{path}: {message}")


def test_a_missing_table(tmp_path: Path) -> None:
    text = GOOD.split("[admission]")[0] + "[urgent_gp]" + GOOD.split("[urgent_gp]")[1]
    path = write(tmp_path, text)
    with pytest.raises(TariffError) as err:
        load_tariffs(path)
    assert err.value.message == f"{path}: [admission] is missing"


def test_a_value_where_a_table_should_be(tmp_path: Path) -> None:
    path = write(tmp_path, "admission = 5\n" + GOOD.replace("[admission]\n", "[x_admission]\n"))
    with pytest.raises(TariffError) as err:
        load_tariffs(path)
    assert "unknown tariff [x_admission]" in err.value.message
    path = write(tmp_path, 'currency = "GBP"\nae_attendance = 5\n')
    with pytest.raises(TariffError) as err:
        load_tariffs(path)
    assert err.value.message == (f"{path}: [ae_attendance] must be a table with cost, source, year")


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TariffError) as err:
        load_tariffs(tmp_path / "nope.toml")
    assert err.value.message == f"tariffs file {tmp_path / 'nope.toml'} does not exist"


def test_a_file_that_is_not_toml(tmp_path: Path) -> None:
    path = write(tmp_path, "currency = \n")
    with pytest.raises(TariffError) as err:
        load_tariffs(path)
    assert err.value.message.startswith(f"tariffs file {path} is not valid TOML:")


def test_the_error_is_a_value_error() -> None:
    assert issubclass(TariffError, ValueError)


def test_the_worked_example_in_docs_outcomes_md() -> None:
    start = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    end = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
    outcome = parse_outcome(
        {
            "outcome": "managed_medication",
            "follow_up": "call_back",
            "call_back_at": "2026-03-02T16:00:00+00:00",
            "admission_judgement": "yes",
        }
    )
    tariffs = load_tariffs()
    before = avoided(Intention.CALL_999, outcome, (), start, end, DEFAULT_FOLLOW_UP_WINDOW)
    assert cost_avoided(tally([before]), tariffs) == Decimal("4931.00")
    admitted = Representation(RepresentationKind.ADMISSION, datetime(2026, 3, 4, 9, tzinfo=UTC))
    after = avoided(Intention.CALL_999, outcome, (admitted,), start, end, DEFAULT_FOLLOW_UP_WINDOW)
    assert (after.ae_attendance, after.call_999, after.conveyance, after.admission) == (
        False,
        True,
        True,
        False,
    )
    assert cost_avoided(tally([after]), tariffs) == Decimal("466.00")
    late = Representation(RepresentationKind.ADMISSION, datetime(2026, 3, 5, 10, 31, tzinfo=UTC))
    assert avoided(Intention.CALL_999, outcome, (late,), start, end, DEFAULT_FOLLOW_UP_WINDOW) == (
        before
    )


# -- a deployment's own tariffs file (outcomes.tariffs_file) -------------------------


def test_no_setting_means_the_packaged_file() -> None:
    assert configured_tariffs("") == load_tariffs()
    assert configured_tariffs("   ") == load_tariffs()


def test_a_deployment_file_replaces_the_packaged_one(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    assert configured_tariffs(str(path)).ae_attendance == Decimal("100.10")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (None, "tariffs file {path} does not exist"),
        ("currency = \n", "tariffs file {path} is not valid TOML:"),
        (GOOD.replace("cost = 10\n", "cost = -10\n"), "{path}: [call_999] cost -10 is negative"),
        (GOOD.replace('year = "2023"\n', ""), "{path}: [urgent_gp] year is missing"),
    ],
    ids=["missing", "not-toml", "negative", "no-year"],
)
def test_a_bad_deployment_file_is_refused_naming_the_setting(
    tmp_path: Path, text: str | None, problem: str
) -> None:
    path = tmp_path / "tariffs.toml" if text is None else write(tmp_path, text)
    with pytest.raises(TariffError) as err:
        configured_tariffs(str(path))
    expected = "config key outcomes.tariffs_file: " + problem.format(path=path)
    assert err.value.message.startswith(expected), err.value.message
