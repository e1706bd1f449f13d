"""geotools.dates.parse_dates: every supported format, invariants, and a real mixed column."""

from __future__ import annotations

import calendar
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geotools.dates import COLUMNS, parse_dates

TODAY = dt.date(2026, 3, 10)  # fixed reference for "future date"
NA = None  # expected <NA>
JS_DATE = "Tue Dec 30 2025 00:00:00 GMT-0500 (hora estándar de Perú)"
MONITOREO = "observatorio-ambiental-peruano/monitoreo-indigena_sample.csv"
CADASTRE = "ingemmet-catastro-minero-17s/catastro_minero_17s_2026-03-10_utm17s.geojson"

# (input, date, date_end, precision, problem)
CASES = [
    # ISO: local date as written, no time-zone shift
    ("2018-03-23", "2018-03-23", "2018-03-23", "day", NA),
    ("2018-03-23T10:00:00", "2018-03-23", "2018-03-23", "day", NA),
    ("2018-03-23 10:00:00-05:00", "2018-03-23", "2018-03-23", "day", NA),
    ("2018-03-23T23:30:00Z", "2018-03-23", "2018-03-23", "day", NA),
    ("2018/03/23", "2018-03-23", "2018-03-23", "day", NA),
    # day-first
    ("19/05/2016", "2016-05-19", "2016-05-19", "day", NA),
    ("19-05-2016", "2016-05-19", "2016-05-19", "day", NA),
    ("19.05.2016", "2016-05-19", "2016-05-19", "day", NA),
    (
        "5/6/2016",
        "2016-06-05",
        "2016-06-05",
        "day",
        "ambiguous day/month: '5/6/2016' read as day-first (5 June 2016)",
    ),
    (
        "05/06/2016",
        "2016-06-05",
        "2016-06-05",
        "day",
        "ambiguous day/month: '05/06/2016' read as day-first (5 June 2016)",
    ),
    ("5/5/2016", "2016-05-05", "2016-05-05", "day", NA),  # day == month: not ambiguous
    ("13/12/2016", "2016-12-13", "2016-12-13", "day", NA),
    ("29/02/2016", "2016-02-29", "2016-02-29", "day", NA),  # leap year
    ("19/05/2016 10:30", "2016-05-19", "2016-05-19", "day", NA),
    # month
    ("2017-09", "2017-09-01", "2017-09-30", "month", NA),
    ("09/2017", "2017-09-01", "2017-09-30", "month", NA),
    ("sep 2017", "2017-09-01", "2017-09-30", "month", NA),
    ("septiembre 2017", "2017-09-01", "2017-09-30", "month", NA),
    ("setiembre 2017", "2017-09-01", "2017-09-30", "month", NA),  # Peruvian spelling
    ("Sept. 2017", "2017-09-01", "2017-09-30", "month", NA),
    ("Marzo 2018", "2018-03-01", "2018-03-31", "month", NA),
    ("FEBRERO 2016", "2016-02-01", "2016-02-29", "month", NA),
    ("febrero 2100", "2100-02-01", "2100-02-28", "month", "future date"),  # 2100 not leap
    # year
    ("2012", "2012-01-01", "2012-12-31", "year", NA),
    ("2016-2017", "2016-01-01", "2017-12-31", "range", NA),
    # ranges
    ("16-19/06/2016", "2016-06-16", "2016-06-19", "range", NA),
    ("16 al 19/06/2016", "2016-06-16", "2016-06-19", "range", NA),
    (
        "11/10/2010 12/10/2010",
        "2010-10-11",
        "2010-10-12",
        "range",
        "ambiguous day/month: '11/10/2010 12/10/2010' read as day-first"
        " (11 October 2010 to 12 October 2010)",
    ),
    ("2016-06-16/2016-06-19", "2016-06-16", "2016-06-19", "range", NA),
    ("16/06/2016 - 19/06/2016", "2016-06-16", "2016-06-19", "range", NA),
    ("junio-julio 2016", "2016-06-01", "2016-07-31", "range", NA),
    ("16 al 19 de junio de 2016", "2016-06-16", "2016-06-19", "range", NA),
    ("June 16-19, 2016", "2016-06-16", "2016-06-19", "range", NA),
    ("28 de junio al 2 de julio de 2016", "2016-06-28", "2016-07-02", "range", NA),
    ("diciembre 2016 - enero 2017", "2016-12-01", "2017-01-31", "range", NA),
    ("16/06/2016 16/06/2016", "2016-06-16", "2016-06-16", "day", NA),  # empty range: a day
    (
        "5/12/2009, 21/06/2017",
        "2009-12-05",
        "2017-06-21",
        "range",
        "ambiguous day/month: '5/12/2009, 21/06/2017' read as day-first"
        " (5 December 2009 to 21 June 2017); two dates listed, read as a range",
    ),
    (
        "19/06/2016 - 16/06/2016",
        NA,
        NA,
        NA,
        "range ends before it starts: '19/06/2016 - 16/06/2016'",
    ),
    # month names, Spanish and English
    ("23 de marzo de 2018", "2018-03-23", "2018-03-23", "day", NA),
    ("23 marzo 2018", "2018-03-23", "2018-03-23", "day", NA),
    ("23 de Marzo del 2018", "2018-03-23", "2018-03-23", "day", NA),
    ("1ro de agosto de 2015", "2015-08-01", "2015-08-01", "day", NA),
    ("miércoles 5 de diciembre de 2018", "2018-12-05", "2018-12-05", "day", NA),
    ("23-mar-2018", "2018-03-23", "2018-03-23", "day", NA),
    ("23 March 2018", "2018-03-23", "2018-03-23", "day", NA),
    ("Mar 23, 2018", "2018-03-23", "2018-03-23", "day", NA),
    ("March 23rd, 2018", "2018-03-23", "2018-03-23", "day", NA),
    # INGEMMET JavaScript Date strings (real values of FEC_DENU)
    (JS_DATE, "2025-12-30", "2025-12-30", "day", NA),
    (
        "Fri Mar 13 1987 00:00:00 GMT-0400 (hora de verano de Perú)",
        "1987-03-13",
        "1987-03-13",
        "day",
        NA,
    ),
    (
        "Fri Dec 20 1889 00:00:00 GMT-0508 (hora estándar de Perú)",
        "1889-12-20",
        "1889-12-20",
        "day",
        "before 1900",
    ),
    # epoch milliseconds (SERNANP anp_felec), UTC date
    (1262304000000, "2010-01-01", "2010-01-01", "day", NA),
    ("1262304000000", "2010-01-01", "2010-01-01", "day", NA),
    (1262217600000, "2009-12-31", "2009-12-31", "day", NA),
    (-262396800000, "1961-09-08", "1961-09-08", "day", NA),  # negative: before 1970
    (67824000000, NA, NA, NA, "looks like a number: '67824000000'"),  # <= 1e11: not read
    (43000, NA, NA, NA, "looks like a number: '43000'"),  # Excel serial: too ambiguous
    ("43000", NA, NA, NA, "looks like a number: '43000'"),
    (2012.5, NA, NA, NA, "looks like a number: '2012.5'"),
    (2012, "2012-01-01", "2012-12-31", "year", NA),  # an integer year
    # Python / pandas objects
    (pd.Timestamp("2020-02-29 23:00", tz="America/Lima"), "2020-02-29", "2020-02-29", "day", NA),
    (pd.Timestamp("2019-01-03 05:00"), "2019-01-03", "2019-01-03", "day", NA),
    (dt.date(2019, 1, 2), "2019-01-02", "2019-01-02", "day", NA),
    (dt.datetime(2019, 1, 3, 23, 59), "2019-01-03", "2019-01-03", "day", NA),
    (np.datetime64("2019-01-04"), "2019-01-04", "2019-01-04", "day", NA),
    # missing: not a problem
    (None, NA, NA, NA, NA),
    (np.nan, NA, NA, NA, NA),
    (pd.NaT, NA, NA, NA, NA),
    (pd.NA, NA, NA, NA, NA),
    ("", NA, NA, NA, NA),
    ("   ", NA, NA, NA, NA),
    ("s/f", NA, NA, NA, NA),
    ("S/F", NA, NA, NA, NA),
    ("sin fecha", NA, NA, NA, NA),
    ("Sin Fecha", NA, NA, NA, NA),
    ("n/a", NA, NA, NA, NA),
    ("-", NA, NA, NA, NA),
    # impossible or unreadable
    ("31/02/2016", NA, NA, NA, "unparsed: '31/02/2016'"),
    ("29/02/2015", NA, NA, NA, "unparsed: '29/02/2015'"),
    ("2018-13-01", NA, NA, NA, "unparsed: '2018-13-01'"),
    ("19/05/16", NA, NA, NA, "unparsed: '19/05/16'"),  # two-digit year: not guessed
    ("hace dos años", NA, NA, NA, "unparsed: 'hace dos años'"),
    (True, NA, NA, NA, "unparsed: 'True'"),
    # plausibility
    ("1850", "1850-01-01", "1850-12-31", "year", "before 1900"),
    ("2030-01-01", "2030-01-01", "2030-01-01", "day", "future date"),
]


def _row(frame: pd.DataFrame, i: int) -> tuple:
    return tuple(None if pd.isna(v) else v for v in frame.iloc[i])


@pytest.fixture(scope="module")
def mixed() -> tuple[pd.Series, pd.DataFrame]:
    """All the cases as one mixed column (how they come in real files), parsed once."""
    index = [f"k{i}" for i in range(len(CASES))]
    values = pd.Series([c[0] for c in CASES], dtype=object, index=index)
    return values, parse_dates(values, today=TODAY)


@pytest.mark.parametrize(
    ("i", "expected"),
    [(i, c[1:]) for i, c in enumerate(CASES)],
    ids=[repr(c[0])[:40] for c in CASES],
)
def test_each_format(mixed, i, expected):
    assert _row(mixed[1], i) == expected


def test_mixed_column_shape_and_determinism(mixed):
    values, out = mixed
    assert list(out.columns) == COLUMNS
    assert out.index.equals(values.index)
    assert (out.dtypes == "string").all()
    pd.testing.assert_frame_equal(out, parse_dates(values, today=TODAY))


def test_a_value_alone_reads_as_in_a_column(mixed):
    values, out = mixed
    picked = ["2018-03-23", "5/6/2016", "16-19/06/2016", "11/10/2010 12/10/2010", JS_DATE, "s/f"]
    for i in [j for j, c in enumerate(CASES) if isinstance(c[0], str) and c[0] in picked]:
        alone = parse_dates(values.iloc[[i]], today=TODAY)
        pd.testing.assert_frame_equal(alone, out.iloc[[i]])


def test_not_a_series_is_a_type_error():
    with pytest.raises(TypeError, match="pandas Series"):
        parse_dates(["2018-03-23"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="pandas Series"):
        parse_dates(pd.DataFrame({"d": ["2018-03-23"]}))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["2018-03-23", None, "31/02/2016"], dtype="string"),
        pd.Series(["2018-03-23", None, "31/02/2016"], dtype="str"),
        pd.Series(["2018-03-23", "2018-03-23", "31/02/2016"], dtype="category"),
    ],
)
def test_string_dtypes(values):
    out = parse_dates(values, today=TODAY)
    assert out["date"].iloc[0] == "2018-03-23"
    assert out["problem"].iloc[2] == "unparsed: '31/02/2016'"


def test_datetime_and_numeric_dtypes():
    aware = pd.Series(pd.to_datetime(["2020-01-01 23:30", None])).dt.tz_localize("America/Lima")
    out = parse_dates(aware, today=TODAY)
    assert out["date"].tolist() == ["2020-01-01", pd.NA]  # local date, not shifted to UTC
    numbers = pd.Series([1262304000000, np.nan, 2012, 5.5])
    out = parse_dates(numbers, today=TODAY)
    assert out["date"].tolist() == ["2010-01-01", pd.NA, "2012-01-01", pd.NA]
    assert out["precision"].tolist() == ["day", pd.NA, "year", pd.NA]
    assert out["problem"].tolist() == [pd.NA, pd.NA, pd.NA, "looks like a number: '5.5'"]
    empty = parse_dates(pd.Series([], dtype=object))
    assert list(empty.columns) == COLUMNS and len(empty) == 0


def test_index_kept_with_duplicates():
    values = pd.Series(["2018-01-01", "s/f", "2018-01-01"], index=["a", "a", "b"])
    out = parse_dates(values, today=TODAY)
    assert out.index.equals(values.index)
    assert out["date"].tolist() == ["2018-01-01", pd.NA, "2018-01-01"]


def test_future_is_relative_to_today():
    values = pd.Series(["2026-03-11", "2026-03-10", "2026"])
    out = parse_dates(values, today=TODAY)
    assert out["problem"].tolist() == ["future date", pd.NA, pd.NA]  # a year under way is not
    later = parse_dates(values, today=dt.date(2026, 3, 11))
    assert later["problem"].isna().all()


# --- properties ------------------------------------------------------------------------------

anything = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="0123456789/-.: ,TZ+ab", max_size=30),
    st.integers(),
    st.floats(),
    st.none(),
    st.booleans(),
    st.dates(),
    st.datetimes(),
)
FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@settings(FAST, max_examples=60)
@given(st.lists(anything, max_size=15), st.integers(0, 1000))
def test_never_raises_and_is_consistent(values, offset):
    index = pd.RangeIndex(offset, offset + len(values))[::-1]
    series = pd.Series(values, dtype=object, index=index)
    out = parse_dates(series, today=TODAY)
    assert out.index.equals(series.index)
    assert list(out.columns) == COLUMNS
    has_date = out["date"].notna()
    assert (has_date == out["date_end"].notna()).all()
    assert (has_date == out["precision"].notna()).all()
    both = out[has_date]
    assert (both["date"] <= both["date_end"]).all()
    assert out["date"].dropna().str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert out["precision"].dropna().isin(["day", "month", "year", "range"]).all()


@FAST
@given(st.lists(anything, min_size=1, max_size=15))
def test_iso_output_parses_again_to_the_same_day(values):
    out = parse_dates(pd.Series(values, dtype=object), today=TODAY)
    dates = out["date"].dropna()
    again = parse_dates(dates, today=TODAY)
    assert again["date"].tolist() == dates.tolist()
    assert again["date_end"].tolist() == dates.tolist()
    assert (again["precision"] == "day").all()


MESES = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
         "setiembre", "octubre", "noviembre", "diciembre"]  # fmt: skip


def _formats(day: dt.date) -> list[str]:
    js = day.strftime("%a %b %d %Y") + " 00:00:00 GMT-0500 (hora estándar de Perú)"
    return [
        day.isoformat(),
        f"{day:%d/%m/%Y}",
        f"{day.day}-{day.month}-{day.year}",
        f"{day:%d.%m.%Y}",
        f"{day.day} de {MESES[day.month - 1]} de {day.year}",
        f"{day:%b} {day.day}, {day.year}",
        js,
    ]


@FAST
@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2026, 3, 10)))
def test_known_day_round_trips_in_every_format(day):
    out = parse_dates(pd.Series(_formats(day)), today=TODAY)
    assert (out["date"] == day.isoformat()).all()
    assert (out["date_end"] == day.isoformat()).all()
    assert (out["precision"] == "day").all()
    ambiguous = day.day <= 12 and day.month <= 12 and day.day != day.month
    for i, problem in enumerate(out["problem"]):
        if ambiguous and 1 <= i <= 3:
            assert problem.startswith("ambiguous day/month"), problem
        else:
            assert pd.isna(problem), problem


@settings(FAST, max_examples=20)
@given(st.integers(1900, 2025), st.integers(1, 12))
def test_month_spans_whole_month(year, month):
    out = parse_dates(pd.Series([f"{year}-{month:02d}", f"{MESES[month - 1]} {year}"]))
    last = calendar.monthrange(year, month)[1]
    assert out["date"].tolist() == [f"{year}-{month:02d}-01"] * 2
    assert out["date_end"].tolist() == [f"{year}-{month:02d}-{last:02d}"] * 2


# --- real data -------------------------------------------------------------------------------


@pytest.mark.realdata
def test_real_monitoreo_indigena_detecto(realdata):
    """PUINAMUDT monitors' `detecto` column: ISO and day-first dates, day ranges, a list."""
    frame = pd.read_csv(realdata / MONITOREO)
    out = parse_dates(frame["detecto"], today=TODAY)
    assert len(out) == 95
    share = out["precision"].notna().mean()
    print(f"detecto parsed: {share:.1%} of {len(out)}")
    assert share == 1.0  # every value of the sample parses
    assert out["precision"].value_counts().to_dict() == {"day": 92, "range": 3}
    by_code = out.set_index(frame["codigo"])
    assert _row(by_code.loc[["PRD20182"]], 0) == ("2018-08-05", "2018-08-05", "day", None)
    assert _row(by_code.loc[["PRD20181"]], 0) == ("2018-01-17", "2018-01-17", "day", None)
    assert _row(by_code.loc[["PMD201601"]], 0) == ("2016-06-16", "2016-06-19", "range", None)
    assert _row(by_code.loc[["COE201003.7/CJT201001"]], 0) == (
        "2010-10-11",
        "2010-10-12",
        "range",
        "ambiguous day/month: '11/10/2010 12/10/2010' read as day-first"
        " (11 October 2010 to 12 October 2010)",
    )
    assert _row(by_code.loc[["CAS200901"]], 0) == (
        "2009-12-05",
        "2017-06-21",
        "range",
        "ambiguous day/month: '5/12/2009, 21/06/2017' read as day-first"
        " (5 December 2009 to 21 June 2017); two dates listed, read as a range",
    )
    assert by_code.loc["CSS201601", "date"] == "2016-11-05"
    flagged = frame.loc[out["problem"].notna(), "detecto"].tolist()
    assert flagged == ["05/11/2016", "06/11/2016", "5/12/2009, 21/06/2017", "11/10/2010 12/10/2010"]
    # Cross-check with the `anio` column where it is not the placeholder 2000 or empty.
    anio = frame["anio"]
    known = anio.notna() & (anio != 2000)
    assert known.sum() == 89
    assert (out.loc[known, "date"].str.slice(0, 4).astype(int) == anio[known]).all()


@pytest.mark.realdata
def test_real_ingemmet_javascript_dates(realdata):
    """INGEMMET FEC_DENU: 9,025 JavaScript Date strings, offsets -05:00, -04:00 (DST), -05:08."""
    import json

    features = json.loads((realdata / CADASTRE).read_text(encoding="utf-8"))["features"]
    values = pd.Series([f["properties"]["FEC_DENU"] for f in features])
    out = parse_dates(values, today=TODAY)
    assert (out["precision"] == "day").all()
    assert out["problem"].value_counts().to_dict() == {"before 1900": 14}
    assert out["date"].max() == "2026-03-09"  # the snapshot is of 10 March 2026
    assert out["date"].min() == "1880-07-06"
