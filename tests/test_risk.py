"""Tests of geotools.analysis.risk: hand-computed rows, the Santa Clara case and properties."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geotools.analysis.risk import COMPONENTS, RiskConfig, compute_risk, compute_sensitivity

ZERO = {
    "concession_ha": 0.0,
    "concession_mining_ha": 0.0,
    "concession_oil_gas_ha": 0.0,
    "concession_agribusiness_ha": 0.0,
    "concession_forestry_ha": 0.0,
    "concession_other_ha": 0.0,
    "concession_active_ha": 0.0,
    "concession_in_process_ha": 0.0,
    "incidents_inside": 0,
    "incidents_nearby": 0,
    "incidents_uncertain": 0,
    "severity_inside": 0,
    "severity_nearby": 0,
    "pipeline_km_inside": 0.0,
    "pipeline_km_nearby": 0.0,
    "spills_inside": 0,
    "spills_nearby": 0,
    "forest_loss_ha": 0.0,
    "forest_loss_coverage": "inside",
}


def row(tid: str = "T1", claimed: float = 1000.0, untitled: float = 0.0, **kw: object) -> dict:
    return {"territory_id": tid, "claimed_ha": claimed, "untitled_ha": untitled, **ZERO, **kw}


def santa_clara(**kw: object) -> dict:
    """The demo's Santa Clara de Uchunya row (incident counts overridable)."""
    agri = 6455.84
    facts = {
        "incidents_inside": 4,
        "incidents_nearby": 1,
        "severity_inside": 12,
        "severity_nearby": 5,
        "first_incident_year": 2012,
        **kw,
    }
    return row(
        "SC",
        8600.0,
        8400.0,
        concession_ha=agri,
        concession_agribusiness_ha=agri,
        concession_active_ha=agri,
        forest_loss_ha=5907.0,
        **facts,
    )


SC_PAIRS = pd.DataFrame(
    {
        "territory_id": ["SC"] * 5,
        "relation": ["inside", "inside", "inside", "inside", "nearby"],
        "severity": [2, 4, 2, 4, 5],
        "date": ["2012-06", "2014-01", "2015-08", "2017-03", "2017-09"],
        "kind": ["threat", "arson", "deforestation", "threat", "killing"],
    }
)
SC_SERIES = pd.DataFrame(
    {
        "territory_id": ["SC"] * 6,
        "year": [2012, 2013, 2014, 2015, 2019, 2023],
        "forest_loss_ha": [945.0, 1772.0, 2008.0, 1182.0, 0.0, 0.0],
    }
)


def test_untitled_only_is_30_medium() -> None:
    r = compute_risk(pd.DataFrame([row(untitled=1000.0)]))
    assert r.risk_score.iloc[0] == 30.0
    assert r.risk_class.iloc[0] == "medium"
    assert r.risk_missing.iloc[0] == ""
    assert r.risk_drivers.iloc[0] == "medium: 100 % untitled"


def test_hand_computed_concessions_and_infrastructure() -> None:
    # 500 ha forestry in process on 1000 ha: 0.7 * 0.5 * 0.5 = 0.175 ; 10 km pipeline: 1 - e^-1
    t = pd.DataFrame(
        [
            row(
                concession_ha=500.0,
                concession_forestry_ha=500.0,
                concession_in_process_ha=500.0,
                pipeline_km_inside=10.0,
            )
        ]
    )
    r = compute_risk(t)
    assert r.risk_concessions.iloc[0] == pytest.approx(0.175)
    assert r.risk_infrastructure.iloc[0] == pytest.approx(1 - math.exp(-1))
    expected = 100 * (0.25 * 0.175 + 0.05 * (1 - math.exp(-1)))
    assert r.risk_score.iloc[0] == pytest.approx(expected, abs=1e-6)
    assert r.risk_class.iloc[0] == "low"


def test_overlapping_kinds_capped_by_union() -> None:
    t = pd.DataFrame(
        [row(concession_ha=400.0, concession_mining_ha=400.0, concession_forestry_ha=400.0)]
    )
    assert compute_risk(t).risk_concessions.iloc[0] == pytest.approx(0.4)


def test_violence_decay_from_pairs() -> None:
    pairs = pd.DataFrame(
        {
            "territory_id": ["T1", "T1", "T1", "X"],
            "relation": ["inside", "nearby", "uncertain", "inside"],
            "severity": [5, 4, 2, 5],
            "date": ["2010-01-01", "2020-01-01", None, "2020-01-01"],
        }
    )
    r = compute_risk(pd.DataFrame([row()]), pairs=pairs, reference_date="2020-01-01")
    age = (pd.Timestamp("2020-01-01") - pd.Timestamp("2010-01-01")).days / 365.25
    s = 5 * 0.5 ** (age / 10) + 0.5 * 4 + 0.5 * 2  # undated: no decay
    assert r.risk_violence.iloc[0] == pytest.approx(1 - math.exp(-s / 5))
    assert "3 incidents in or near it since 2010" in r.risk_drivers.iloc[0]


def test_missing_components_lower_bound() -> None:
    t = pd.DataFrame([row(untitled=1000.0, forest_loss_ha=np.nan, forest_loss_coverage="outside")])
    t = t.drop(
        columns=["pipeline_km_inside", "pipeline_km_nearby", "spills_inside", "spills_nearby"]
    )
    r = compute_risk(t).iloc[0]
    assert math.isnan(r.risk_deforestation) and math.isnan(r.risk_infrastructure)
    assert r.risk_missing == "deforestation,infrastructure"
    assert r.risk_score == 30.0
    assert r.risk_score_max == pytest.approx(45.0)
    assert "missing: deforestation,infrastructure" in r.risk_drivers


def test_only_territory_id() -> None:
    r = compute_risk(pd.DataFrame({"territory_id": ["A", "B"]}))
    assert list(r.risk_score) == [0.0, 0.0]
    assert list(r.risk_score_max) == [100.0, 100.0]
    assert r.risk_missing.iloc[0] == ",".join(COMPONENTS)


def test_santa_clara_demo_counts_is_critical() -> None:
    # as `geotools demo` counts them: 1 incident inside (arson, severity 4), 4 uncertain
    sc = santa_clara(
        incidents_inside=1,
        incidents_nearby=0,
        incidents_uncertain=4,
        severity_inside=4,
        severity_nearby=0,
        first_incident_year=2014,
    )
    r = compute_risk(pd.DataFrame([sc])).iloc[0]
    assert r.risk_score == pytest.approx(84.009, abs=1e-3)
    assert r.risk_class == "critical"
    assert r.risk_drivers == (
        "critical: 98 % untitled, 5 incidents in or near it since 2014, "
        "75 % under agribusiness concessions"
    )


@pytest.mark.parametrize(
    ("pairs", "series", "ref"),
    [
        (None, None, None),
        (SC_PAIRS, None, "2022-11-05"),
        (SC_PAIRS, SC_SERIES, "2022-11-05"),
        (SC_PAIRS, None, "2026-01-01"),
    ],
)
def test_santa_clara_is_critical(
    pairs: pd.DataFrame | None, series: pd.DataFrame | None, ref: str | None
) -> None:
    r = compute_risk(pd.DataFrame([santa_clara()]), pairs, series, reference_date=ref).iloc[0]
    assert r.risk_class == "critical", r.to_dict()
    assert r.risk_drivers.startswith("critical: 98 % untitled")
    assert "75 % under agribusiness concessions" in r.risk_drivers


def test_empty_table() -> None:
    empty = pd.DataFrame({"territory_id": pd.Series([], dtype=object), "claimed_ha": []})
    assert len(compute_risk(empty)) == 0
    assert len(compute_sensitivity(empty)) == 0


def test_order_and_index_preserved() -> None:
    t = pd.DataFrame([row("B", untitled=10.0), santa_clara(), row("A")], index=[7, 3, 9])
    r = compute_risk(t)
    assert list(r.territory_id) == ["B", "SC", "A"]


def test_from_mapping() -> None:
    c = RiskConfig.from_mapping({"weights": {"violence": 0.6}, "thresholds": [10, 20, 30]})
    assert c.weights["violence"] == 0.6 and c.weights["tenure"] == 0.30
    assert c.thresholds == (10.0, 20.0, 30.0)
    with pytest.raises(ValueError, match="unknown risk option"):
        RiskConfig.from_mapping({"wieghts": {}})
    with pytest.raises(ValueError, match="unknown risk weight"):
        RiskConfig.from_mapping({"weights": {"roads": 1.0}})
    with pytest.raises(ValueError, match="thresholds"):
        RiskConfig(thresholds=(50.0, 25.0, 75.0))


def test_sensitivity_shape_and_zero_change() -> None:
    t = pd.DataFrame([santa_clara(), row("A", untitled=1000.0), row("B")])
    s = compute_sensitivity(t)
    assert s.shape == (len(COMPONENTS) * 2 * 3, 6)
    assert set(s.change) == {"-50%", "+50%"}
    assert list(s.columns) == [
        "territory_id",
        "weight",
        "change",
        "risk_score",
        "risk_class",
        "class_changed",
    ]
    # halving tenure moves A (30) to 100 * 0.15 / 0.85 = 17.6 -> low
    a = s[(s.territory_id == "A") & (s.weight == "tenure") & (s.change == "-50%")].iloc[0]
    assert a.risk_score == pytest.approx(100 * 0.15 / 0.85) and a.class_changed
    z = compute_sensitivity(t, factor=0.0)
    assert not z.class_changed.any()
    base = compute_risk(t).risk_score.to_numpy()
    assert np.allclose(z.risk_score.to_numpy().reshape(-1, 3), base)


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

ha = st.floats(0, 1000, allow_nan=False)
sev = st.integers(1, 5)


@st.composite
def territories(draw: st.DrawFn) -> dict:
    claimed = draw(st.floats(1, 5000))
    active = draw(ha)
    in_proc = draw(ha)
    return row(
        "T",
        claimed,
        draw(st.floats(0, 1)) * claimed,
        concession_ha=active + in_proc,
        concession_agribusiness_ha=active,
        concession_forestry_ha=in_proc,
        concession_active_ha=active,
        concession_in_process_ha=in_proc,
        severity_inside=draw(st.integers(0, 30)),
        severity_nearby=draw(st.integers(0, 30)),
        incidents_uncertain=draw(st.integers(0, 5)),
        pipeline_km_inside=draw(st.floats(0, 50)),
        spills_nearby=draw(st.integers(0, 3)),
        forest_loss_ha=draw(ha),
    )


@st.composite
def pair_tables(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(0, 6))
    return pd.DataFrame(
        {
            "territory_id": ["T"] * n,
            "relation": draw(
                st.lists(st.sampled_from(["inside", "nearby", "uncertain"]), min_size=n, max_size=n)
            ),
            "severity": draw(st.lists(sev, min_size=n, max_size=n)),
            "date": draw(
                st.lists(
                    st.sampled_from(["2005-01-01", "2015-06", "2020-12-31", None]),
                    min_size=n,
                    max_size=n,
                )
            ),
        }
    )


def scores(rows: list[dict], pairs: pd.DataFrame | None = None) -> np.ndarray:
    """Scores of several variants at once (one call: the variants are territories T0, T1...)."""
    table = pd.DataFrame([dict(r, territory_id=f"T{i}") for i, r in enumerate(rows)])
    risk = compute_risk(table, pairs, reference_date="2021-01-01")
    return risk.risk_score.to_numpy()


@settings(max_examples=30, deadline=None)
@given(territories(), pair_tables())
def test_bounded_and_deterministic(t: dict, pairs: pd.DataFrame) -> None:
    a = compute_risk(pd.DataFrame([t]), pairs, reference_date="2021-01-01")
    b = compute_risk(pd.DataFrame([t]), pairs, reference_date="2021-01-01")
    pd.testing.assert_frame_equal(a, b)
    assert 0 <= a.risk_score[0] <= a.risk_score_max[0] <= 100
    for c in COMPONENTS:
        assert 0 <= a[f"risk_{c}"][0] <= 1


@settings(max_examples=30, deadline=None)
@given(territories(), st.floats(0, 1), ha)
def test_monotone_in_untitled_and_active(t: dict, more_untitled: float, more_active: float) -> None:
    room = t["claimed_ha"] - t["untitled_ha"]
    variants = [t, dict(t, untitled_ha=t["untitled_ha"] + more_untitled * room)]
    for kind in ("agribusiness", "forestry"):
        up = dict(t)
        for col in (f"concession_{kind}_ha", "concession_active_ha", "concession_ha"):
            up[col] = t[col] + more_active
        variants.append(up)
    s = scores(variants)
    assert (s[1:] >= s[0]).all()


@settings(max_examples=30, deadline=None)
@given(territories(), pair_tables(), st.sampled_from(["inside", "nearby", "uncertain"]), sev)
def test_monotone_in_incidents(t: dict, pairs: pd.DataFrame, rel: str, s: int) -> None:
    extra = pd.DataFrame(
        {"territory_id": ["T"], "relation": [rel], "severity": [s], "date": ["2012-01-01"]}
    )
    worse = pairs.assign(severity=pairs.severity.clip(upper=4) + 1)
    variants = [
        pairs.assign(territory_id="T0"),
        pd.concat([pairs, extra], ignore_index=True).assign(territory_id="T1"),
        worse.assign(territory_id="T2"),
    ]
    got = scores([t, t, t], pd.concat(variants, ignore_index=True))
    assert got[1] >= got[0] and got[2] >= got[0]
    table_scores = scores([t, dict(t, severity_inside=t["severity_inside"] + s)])
    assert table_scores[1] >= table_scores[0]


@settings(max_examples=30, deadline=None)
@given(territories())
def test_dropping_a_component_never_raises(t: dict) -> None:
    full = compute_risk(pd.DataFrame([t]))
    for component, cols in {
        "tenure": ["untitled_ha"],
        "concessions": [c for c in t if c.startswith("concession_")],
        "violence": [
            "severity_inside",
            "severity_nearby",
            "incidents_inside",
            "incidents_nearby",
            "incidents_uncertain",
        ],
        "deforestation": ["forest_loss_ha"],
        "infrastructure": [
            "pipeline_km_inside",
            "pipeline_km_nearby",
            "spills_inside",
            "spills_nearby",
        ],
    }.items():
        dropped = compute_risk(pd.DataFrame([t]).drop(columns=cols))
        assert dropped.risk_missing[0] == component
        assert dropped.risk_score[0] <= full.risk_score[0]
        assert dropped.risk_score_max[0] >= full.risk_score[0]
