"""Parse dates written in mixed formats, keeping their precision.

Field data from Peruvian sources write dates in many ways in the same column: ISO dates,
day-first dates (``19/05/2016``), months (``09/2017``, ``setiembre 2017``), bare years, ranges
(``16-19/06/2016``, ``11/10/2010 12/10/2010``), Spanish and English month names, JavaScript
``Date`` strings from the INGEMMET cadastre and epoch milliseconds from SERNANP services.
:func:`parse_dates` reads all of them into a start date, an end date and a precision, and says
in plain English what was doubtful or unreadable.

How it works: every value is turned into a normalised text (lower case, accents removed,
whitespace collapsed), then a small, fixed sequence of anchored regular expressions is applied
with :meth:`pandas.Series.str.extract` to the rows not parsed yet. Calendar checks (month length,
leap years), month lengths of periods and the conversion of epoch milliseconds are numpy array
arithmetic. Each distinct text is parsed once (:func:`pandas.factorize`), so long columns with
repeated values cost little. There is no per-row parser; only non-string objects in an
``object`` Series (``Timestamp``, ``datetime.date``, numbers) are converted to text one by one.

Decisions
---------
- Numeric dates are day-first (Latin American convention). When both numbers are <= 12 and
  differ, the row is still read day-first and ``problem`` says so.
- Two dates separated by whitespace, ``-``, ``/``, ``al``, ``a`` or ``hasta`` are a range. Two
  dates separated by ``,``, ``;`` or ``y`` are a *list*: they are read as the range from the
  first to the second, and ``problem`` says so (the span between them is not attested).
- A range whose end is before its start is left unparsed, with a problem.
- Numbers are epoch milliseconds (UTC date) when > 1e11, or when <= -1e10 (negative numbers
  cannot be years; SERNANP stores areas created before 1970 that way). Integer numbers
  1000..9999 are years. Any other number, Excel serials included, is left unparsed with the
  problem ``looks like a number``.
- Two-digit years (``19/05/16``) are not guessed: unparsed. Years must have four digits and be
  >= 1000.
- Times and time-zone offsets are ignored: the date is the local date as written.
- ``future date`` (start after ``today``) and ``before 1900`` are reported but the date is kept.
- Missing markers (``None``, NaN, ``""``, ``s/f``, ``sin fecha``, ``n/a``, ``-``, and also
  ``s/d``, ``sin datos``, ``nan``, ``none``, ``null``, ``NaT``) give all-missing rows with no
  problem: whether a missing date matters is the caller's decision.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import numbers
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

__all__ = ["parse_dates"]

#: Output columns of :func:`parse_dates`.
COLUMNS = ["date", "date_end", "precision", "problem"]
#: Positive numbers above this are epoch milliseconds (below, they could be years, RUC numbers,
#: epoch seconds or Excel serials).
EPOCH_MS_MIN = 1e11
#: Negative numbers at or below this are epoch milliseconds (dates before 1969-08-05).
EPOCH_MS_NEG = -1e10
MIN_YEAR, MAX_YEAR = 1000, 9999
_MS_PER_DAY = 86_400_000
_MAX_SHOWN = 60  # characters of a raw value quoted in a problem

_MONTH_EN = ["", "January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December"]  # fmt: skip
_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
#: First three letters of a Spanish or English month name (accents removed) -> month number.
_MONTH3 = {
    "ene": 1, "jan": 1, "feb": 2, "mar": 3, "abr": 4, "apr": 4, "may": 5, "jun": 6, "jul": 7,
    "ago": 8, "aug": 8, "sep": 9, "set": 9, "oct": 10, "nov": 11, "dic": 12, "dec": 12,
}  # fmt: skip

_MISSING = (
    r"^(?:|-+|–|—|s/?f\.?|s\.f\.?|sin fecha|n/?a|n\.a\.|nan|none|null|nat|<na>|s/?d|sin datos?)$"
)
_TIME = (
    r"\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?: ?[ap]\.? ?m\.?)?(?: ?(?:z|utc|gmt))?"
    r"(?: ?[+-]\d{2}(?::?\d{2})?)?"
)
# One day written with numbers: ISO year-first (i*) or day-first (d*), optional time.
_DAY = (
    r"^(?:(?P<iy>\d{4})(?P<isep>[-/.])(?P<im>\d{1,2})(?P=isep)(?P<id>\d{1,2})"
    r"|(?P<dd>\d{1,2})(?P<dsep>[-/.])(?P<dm>\d{1,2})(?P=dsep)(?P<dy>\d{4}))"
    rf"(?:[t ]{_TIME})?$"
)
_TOKEN = (
    r"\d{{4}}(?P<i{0}>[-/.])\d{{1,2}}(?P=i{0})\d{{1,2}}"
    r"|\d{{1,2}}(?P<s{0}>[-/.])\d{{1,2}}(?P=s{0})\d{{4}}"
)
# Two days: a range (whitespace, -, /, al, a, hasta) or a list (",", ";", "y").
_TWO_DAYS = (
    rf"^(?P<a>{_TOKEN.format('a')})"
    r"(?:\s*(?P<sep>[-/,;–—]|al|a|hasta|y)\s*|\s+)"
    rf"(?P<b>{_TOKEN.format('b')})$"
)
# Days of one month: "16-19/06/2016", "16 al 19/06/2016".
_DAY_SPAN = (
    r"^(?P<d1>\d{1,2}) ?(?:-|–|al|a) ?(?P<d2>\d{1,2})(?P<s>[-/.])(?P<m>\d{1,2})(?P=s)(?P<y>\d{4})$"
)
_MONTH = r"^(?:(?P<ya>\d{4})[-/](?P<ma>\d{1,2})|(?P<mb>\d{1,2})[-/](?P<yb>\d{4}))$"
_YEARS = r"^(?P<y1>\d{4})(?:\s*(?:-|–|/|al|a|hasta)\s*(?P<y2>\d{4}))?$"
_NUMBER = r"^(?P<num>[+-]?\d+(?:\.\d+)?(?:e[+-]?\d+)?)$"

_MON = (
    r"ene(?:ro)?|jan(?:uary)?|feb(?:rero|ruary)?|mar(?:zo|ch)?|abr(?:il)?|apr(?:il)?|may(?:o)?"
    r"|jun(?:io|e)?|jul(?:io|y)?|ago(?:sto)?|aug(?:ust)?|sep(?:t(?:iembre|ember)?)?"
    r"|set(?:iembre)?|oct(?:ubre|ober)?|nov(?:iembre|ember)?|dic(?:iembre)?|dec(?:ember)?"
)
# Month-name texts, after _words(): tokens D (day), M (month name), Y (year), space separated.
_WORD_TEMPLATES = [
    "D1 M1 Y1",  # 23 marzo 2018 / 23 de marzo de 2018 / 23 March 2018 / 23-mar-2018
    "M1 D1 Y1",  # Mar 23, 2018 / Tue Dec 30 2025 00:00:00 GMT-0500 (...)
    "M1 Y1",  # sep 2017 / septiembre 2017 / Sept. 2017 / Marzo 2018
    "D1 D2 M1 Y1",  # 16 al 19 de junio de 2016
    "M1 D1 D2 Y1",  # June 16-19, 2016
    "M1 M2 Y1",  # junio-julio 2016
    "D1 M1 D2 M2 Y1",  # 28 de junio al 2 de julio de 2016
    "D1 M1 Y1 D2 M2 Y2",  # 28 junio 2016 - 2 julio 2017
    "M1 Y1 M2 Y2",  # diciembre 2016 - enero 2017
]
_WORD_GROUP = {"D": r"\d{1,2}", "M": _MON, "Y": r"\d{4}"}
_WEEKDAY = (
    r"^(?:lunes|martes|miercoles|jueves|viernes|sabado|domingo"
    r"|mon(?:day)?|tue(?:s|sday)?|wed(?:nesday)?|thu(?:rs?|rsday)?|fri(?:day)?|sat(?:urday)?"
    r"|sun(?:day)?)\b\.?,? ?(?=.)"
)
_STOPWORDS = r"\b(?:de|del|of|the|al|a|hasta|y|to|and|from|desde|el|entre|until)\b"


def _words_regex() -> str:
    """One regex for all word templates; template ``i``'s groups are named ``t{i}_D1`` etc."""
    alternatives = []
    for i, template in enumerate(_WORD_TEMPLATES):
        parts = [f"(?P<t{i}_{tok}>{_WORD_GROUP[tok[0]]})" for tok in template.split()]
        alternatives.append(" ".join(parts))
    return "^(?:" + "|".join(alternatives) + ")$"


_WORDS = _words_regex()


class _State:
    """Parse results so far, one slot per row (positional)."""

    def __init__(self, raw: pd.Series) -> None:
        n = len(raw)
        self.raw = raw
        self.y1 = np.zeros(n, dtype=np.int64)
        self.m1 = np.zeros(n, dtype=np.int64)
        self.d1 = np.zeros(n, dtype=np.int64)
        self.y2 = np.zeros(n, dtype=np.int64)
        self.m2 = np.zeros(n, dtype=np.int64)
        self.d2 = np.zeros(n, dtype=np.int64)
        self.precision = np.full(n, None, dtype=object)
        self.problem = np.full(n, None, dtype=object)
        self.ambiguous = np.zeros(n, dtype=bool)
        self.listed = np.zeros(n, dtype=bool)
        self.done = np.zeros(n, dtype=bool)

    def fail(self, pos: np.ndarray, reason: str) -> None:
        """Mark rows ``pos`` unparsed with ``reason: '<raw value>'``."""
        if len(pos):
            shown = _shown(self.raw.iloc[pos])
            self.problem[pos] = (reason + ": '" + shown + "'").to_numpy(dtype=object)
            self.done[pos] = True

    def commit(
        self,
        pos: np.ndarray,
        start: tuple[np.ndarray, np.ndarray, np.ndarray],
        end: tuple[np.ndarray, np.ndarray, np.ndarray],
        precision: str,
        ambiguous: np.ndarray | None = None,
        listed: np.ndarray | None = None,
    ) -> None:
        """Store the valid periods among rows ``pos``; leave invalid ones for later patterns.

        A period with valid ends in the wrong order is final: unparsed with a problem.
        """
        if not len(pos):
            return
        y1, m1, d1 = start
        y2, m2, d2 = end
        valid = _valid(y1, m1, d1) & _valid(y2, m2, d2)
        ordered = _key(y1, m1, d1) <= _key(y2, m2, d2)
        good = valid & ordered
        self.fail(pos[valid & ~ordered], "range ends before it starts")
        at = pos[good]
        self.y1[at], self.m1[at], self.d1[at] = y1[good], m1[good], d1[good]
        self.y2[at], self.m2[at], self.d2[at] = y2[good], m2[good], d2[good]
        prec = np.full(len(at), precision, dtype=object)
        if precision == "range":
            prec[_key(y1[good], m1[good], d1[good]) == _key(y2[good], m2[good], d2[good])] = "day"
        self.precision[at] = prec
        if ambiguous is not None:
            self.ambiguous[at] = ambiguous[good]
        if listed is not None:
            self.listed[at] = listed[good]
        self.done[at] = True


def _shown(raw: pd.Series) -> pd.Series:
    """Raw values as quoted in problems (long ones cut)."""
    text = raw.astype(object).fillna("").astype(str)
    long = text.str.len() > _MAX_SHOWN
    return text.where(~long, text.str.slice(0, _MAX_SHOWN - 3) + "...")


def _dim(y: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Days in month ``m`` (1..12, clipped) of year ``y`` (proleptic Gregorian)."""
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    mm = np.clip(m, 1, 12)
    return _DAYS_IN_MONTH[mm - 1] + ((mm == 2) & leap)


def _valid(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    ok = (y >= MIN_YEAR) & (y <= MAX_YEAR) & (m >= 1) & (m <= 12) & (d >= 1)
    return ok & (d <= _dim(y, m))


def _key(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    return y * 10_000 + m * 100 + d


def _civil_from_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day of ``days`` since 1970-01-01 (H. Hinnant's algorithm, vectorised)."""
    z = days.astype(np.int64) + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    y = yoe + era * 400 + (m <= 2)
    return y, m, d


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of valid dates (inverse of :func:`_civil_from_days`)."""
    y = y - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def _iso(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """ISO ``YYYY-MM-DD`` texts of valid dates (years 1000..9999)."""
    days = _days_from_civil(y, m, d).astype("datetime64[D]")
    return np.datetime_as_string(days, unit="D").astype(object)


def _human(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> pd.Series:
    names = pd.Series(np.asarray(_MONTH_EN, dtype=object)[m])
    return pd.Series(d).astype(str) + " " + names + " " + pd.Series(y).astype(str)


def _ints(frame: pd.DataFrame, col: str, default: int = 0) -> np.ndarray:
    """Integer values of an extracted digit group (``default`` where the group is absent)."""
    return frame[col].fillna(str(default)).astype(np.int64).to_numpy()


def _month_numbers(names: pd.Series) -> np.ndarray:
    """Month numbers of matched Spanish or English month names (accents removed)."""
    return names.str.slice(0, 3).map(_MONTH3).astype(np.int64).to_numpy()


def _extract(text: pd.Series, todo: np.ndarray, pattern: str) -> tuple[np.ndarray, pd.DataFrame]:
    """Apply ``pattern`` to the rows ``todo``; return positions and groups of the matches."""
    pos = np.flatnonzero(todo)
    if not len(pos):
        return pos, pd.DataFrame()
    groups = text.iloc[pos].str.extract(pattern, flags=re.ASCII)
    hit = groups.notna().any(axis=1).to_numpy()
    groups = groups[hit].reset_index(drop=True)
    return pos[hit], groups


def _scalar_text(value: object) -> tuple[str, bool]:
    """Text of one non-string, non-missing object; flag True if it is a non-integer number."""
    if isinstance(value, (bool, np.bool_)):
        return str(value), False
    if isinstance(value, (dt.date, pd.Timestamp)):  # datetime and Timestamp are dates too
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}", False
    if isinstance(value, np.datetime64):
        return str(value.astype("datetime64[D]")), False
    if isinstance(value, numbers.Integral):
        return str(int(value)), False
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isfinite(number) and number.is_integer() and abs(number) < 9e18:
            return str(int(number)), False
        return repr(number), True
    try:
        return str(value), False
    except Exception:  # an object whose __str__ fails is simply not a date
        return f"<{type(value).__name__}>", False


def _as_text(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Values as text (None where missing) and a mask of non-integer numbers."""
    n = len(values)
    number_only = np.zeros(n, dtype=bool)
    if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(
        values.dtype
    ):
        dts = values.dt
        ok = values.notna().to_numpy()
        y, m, d = (
            getattr(dts, part).fillna(0).astype(np.int64).to_numpy()
            for part in ("year", "month", "day")
        )
        iso = np.full(n, None, dtype=object)
        iso[ok] = _iso(y[ok], m[ok], d[ok])
        return pd.Series(iso, dtype=object), number_only
    if pd.api.types.is_bool_dtype(values.dtype):
        obj = values.astype(object)
        text = obj.where(obj.isna(), obj.astype(str))
        return text.where(text.notna(), None).reset_index(drop=True), number_only
    if pd.api.types.is_numeric_dtype(values.dtype):
        num = values.to_numpy(dtype="float64", na_value=np.nan)
        finite = np.isfinite(num)
        whole = np.zeros(n, dtype=bool)
        whole[finite] = (num[finite] == np.floor(num[finite])) & (np.abs(num[finite]) < 9e18)
        out = np.full(n, None, dtype=object)
        out[whole] = pd.Series(num[whole].astype(np.int64)).astype(str).to_numpy(dtype=object)
        number_only = ~whole & ~np.isnan(num)
        out[number_only] = pd.Series(num[number_only]).astype(str).to_numpy(dtype=object)
        return pd.Series(out, dtype=object), number_only
    arr = values.to_numpy(dtype=object)
    missing = np.asarray(pd.isna(arr), dtype=bool)
    out = arr.copy()
    out[missing] = None
    kind = pd.api.types.infer_dtype(arr, skipna=True)
    if kind not in ("string", "empty"):
        is_str = np.fromiter((isinstance(v, str) for v in arr), dtype=bool, count=n)
        for i in np.flatnonzero(~is_str & ~missing):
            out[i], number_only[i] = _scalar_text(arr[i])
    return pd.Series(out, dtype=object), number_only


def _normalise(raw: pd.Series) -> pd.Series:
    """Lower case, accents removed, whitespace collapsed."""
    text = raw.str.normalize("NFKD").str.replace(r"[\u0300-\u036f]", "", regex=True)
    return text.str.lower().str.replace(r"\s+", " ", regex=True).str.strip()


def _words(text: pd.Series) -> pd.Series:
    """Month-name texts reduced to space-separated tokens: day, month name, year."""
    out = text.str.replace(r"\(.*?\)", " ", regex=True)  # "(hora estándar de Perú)"
    out = out.str.replace(rf"(?:^|(?<=\s)){_TIME}", " ", regex=True, flags=re.ASCII)
    out = out.str.replace(r"(?<=\d)(?:st|nd|rd|th|ro|er|o|°)(?=[\s,.]|$)", "", regex=True)
    out = out.str.replace(r"[,.;/\-–—]", " ", regex=True)
    out = out.str.replace(r"\s+", " ", regex=True).str.strip()
    out = out.str.replace(_WEEKDAY, "", regex=True)
    out = out.str.replace(_STOPWORDS, " ", regex=True)
    return out.str.replace(r"\s+", " ", regex=True).str.strip()


def _day_numeric(
    text: pd.Series,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read each text as one numeric day (ISO or day-first).

    Returns year, month, day, ambiguous (day-first with both numbers <= 12 and different) and
    matched (the text has the shape of a day; the date may still be impossible).
    """
    groups = text.str.extract(_DAY, flags=re.ASCII)
    iso = groups["iy"].notna().to_numpy()
    dmy = groups["dy"].notna().to_numpy()
    y = np.where(iso, _ints(groups, "iy"), _ints(groups, "dy"))
    m = np.where(iso, _ints(groups, "im"), _ints(groups, "dm"))
    d = np.where(iso, _ints(groups, "id"), _ints(groups, "dd"))
    ambiguous = dmy & (d <= 12) & (m <= 12) & (d != m)
    return y, m, d, ambiguous, iso | dmy


def _pass_days(state: _State, text: pd.Series) -> None:
    pos = np.flatnonzero(~state.done)
    if not len(pos):
        return
    y, m, d, ambiguous, matched = _day_numeric(text.iloc[pos])
    day = (y[matched], m[matched], d[matched])
    state.commit(pos[matched], day, day, "day", ambiguous=ambiguous[matched])


def _pass_two_days(state: _State, text: pd.Series) -> None:
    pos, g = _extract(text, ~state.done, _TWO_DAYS)
    if not len(pos):
        return
    ya, ma, da, amb_a, ok_a = _day_numeric(g["a"])
    yb, mb, db, amb_b, ok_b = _day_numeric(g["b"])
    ok = ok_a & ok_b
    listed = g["sep"].isin([",", ";", "y"]).to_numpy()
    state.commit(pos[ok], (ya[ok], ma[ok], da[ok]), (yb[ok], mb[ok], db[ok]), "range",
                 ambiguous=(amb_a | amb_b)[ok], listed=listed[ok])  # fmt: skip


def _pass_day_span(state: _State, text: pd.Series) -> None:
    pos, g = _extract(text, ~state.done, _DAY_SPAN)
    if not len(pos):
        return
    y, m = _ints(g, "y"), _ints(g, "m")
    state.commit(pos, (y, m, _ints(g, "d1")), (y, m, _ints(g, "d2")), "range")


def _pass_month(state: _State, text: pd.Series) -> None:
    pos, g = _extract(text, ~state.done, _MONTH)
    if not len(pos):
        return
    ya = g["ya"].notna().to_numpy()
    y = np.where(ya, _ints(g, "ya"), _ints(g, "yb"))
    m = np.where(ya, _ints(g, "ma"), _ints(g, "mb"))
    state.commit(pos, (y, m, np.ones_like(y)), (y, m, _dim(y, m)), "month")


def _pass_years(state: _State, text: pd.Series) -> None:
    pos, g = _extract(text, ~state.done, _YEARS)
    if not len(pos):
        return
    span = g["y2"].notna().to_numpy()
    y1 = _ints(g, "y1")
    y2 = np.where(span, _ints(g, "y2"), y1)
    ones = np.ones_like(y1)
    state.commit(pos[~span], (y1[~span], ones[~span], ones[~span]),
                 (y1[~span], 12 * ones[~span], 31 * ones[~span]), "year")  # fmt: skip
    state.commit(pos[span], (y1[span], ones[span], ones[span]),
                 (y2[span], 12 * ones[span], 31 * ones[span]), "range")  # fmt: skip


def _pass_words(state: _State, text: pd.Series) -> None:
    todo = ~state.done & text.str.contains("[a-z]", regex=True).fillna(False).to_numpy(bool)
    pos = np.flatnonzero(todo)
    if not len(pos):
        return
    words = pd.Series(np.full(len(text), None, dtype=object))
    words.iloc[pos] = _words(text.iloc[pos]).to_numpy(dtype=object)
    pos, groups = _extract(words, todo, _WORDS)
    for i, template in enumerate(_WORD_TEMPLATES):
        tokens = template.split()
        hit = groups[f"t{i}_{tokens[0]}"].notna().to_numpy() if len(pos) else np.zeros(0, bool)
        if not hit.any():
            continue
        g = groups.loc[hit, [f"t{i}_{tok}" for tok in tokens]].set_axis(tokens, axis=1)
        y1 = _ints(g, "Y1")
        y2 = _ints(g, "Y2") if "Y2" in tokens else y1
        m1 = _month_numbers(g["M1"])
        m2 = _month_numbers(g["M2"]) if "M2" in tokens else m1
        d1 = _ints(g, "D1") if "D1" in tokens else np.ones_like(y1)
        if "D2" in tokens:
            d2 = _ints(g, "D2")
        elif "D1" in tokens:
            d2 = d1
        else:
            d2 = _dim(y2, m2)
        if len(tokens) == 3 and "D1" in tokens:
            precision = "day"
        elif tokens == ["M1", "Y1"]:
            precision = "month"
        else:
            precision = "range"
        state.commit(pos[hit], (y1, m1, d1), (y2, m2, d2), precision)


def _pass_numbers(state: _State, text: pd.Series) -> None:
    pos, g = _extract(text, ~state.done, _NUMBER)
    if not len(pos):
        return
    num = pd.to_numeric(g["num"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    epoch = ((num > EPOCH_MS_MIN) | (num <= EPOCH_MS_NEG)) & (np.abs(num) < 1e15)
    days = np.floor(np.where(epoch, num, 0.0) / _MS_PER_DAY).astype(np.int64)
    y, m, d = _civil_from_days(days)
    epoch &= (y >= MIN_YEAR) & (y <= MAX_YEAR)
    state.commit(pos[epoch], (y[epoch], m[epoch], d[epoch]), (y[epoch], m[epoch], d[epoch]),
                 "day")  # fmt: skip
    state.fail(pos[~epoch], "looks like a number")


_PASSES: list[Callable[[_State, pd.Series], None]] = [
    _pass_days,
    _pass_day_span,
    _pass_two_days,
    _pass_month,
    _pass_years,
    _pass_words,
    _pass_numbers,
]


def _append(problem: np.ndarray, mask: np.ndarray, message: np.ndarray | str) -> None:
    """Add ``message`` (array aligned with ``problem``, or one string) to rows ``mask``."""
    if not mask.any():
        return
    msg = np.broadcast_to(np.asarray(message, dtype=object), problem.shape)[mask]
    current = problem[mask]
    empty = np.asarray(pd.isna(current), dtype=bool)
    joined = pd.Series(current).fillna("").astype(str) + "; " + pd.Series(msg).astype(str)
    problem[mask] = np.where(empty, msg, joined.to_numpy(dtype=object))


def parse_dates(values: pd.Series, *, today: dt.date | None = None) -> pd.DataFrame:
    """Parse dates written in mixed formats, keeping their precision.

    Parameters
    ----------
    values : pandas.Series
        Dates as text, numbers (epoch milliseconds, years), ``Timestamp``/``datetime.date``
        objects, or a ``datetime64`` Series; any dtype, any index.
    today : datetime.date, optional
        Reference for ``future date`` problems; default: the current date. Pass it to make
        the output independent of the day the code runs.

    Returns
    -------
    pandas.DataFrame
        Same index as ``values``; columns of ``string`` dtype:

        ``date``
            ISO ``YYYY-MM-DD`` of the (start of the) date, or ``<NA>``.
        ``date_end``
            ISO ``YYYY-MM-DD`` of the end of the period (inclusive), or ``<NA>``.
        ``precision``
            ``'day'``, ``'month'``, ``'year'``, ``'range'``, or ``<NA>`` (unparsed/missing).
        ``problem``
            ``<NA>`` when parsed cleanly or missing; otherwise short English reasons joined by
            ``'; '``: ``unparsed: '…'``, ``looks like a number: '…'``, ``range ends before it
            starts: '…'``, ``ambiguous day/month: '…' read as day-first (…)``, ``two dates
            listed, read as a range``, ``future date``, ``before 1900``.

    Raises
    ------
    TypeError
        If ``values`` is not a pandas Series. Bad values never raise.

    Examples
    --------
    >>> import pandas as pd
    >>> out = parse_dates(
    ...     pd.Series(["2018-03-23", "19/05/2016", "setiembre 2017", "2012", "16-19/06/2016"]),
    ...     today=dt.date(2026, 1, 1),
    ... )
    >>> out[["date", "date_end", "precision"]]
             date    date_end precision
    0  2018-03-23  2018-03-23       day
    1  2016-05-19  2016-05-19       day
    2  2017-09-01  2017-09-30     month
    3  2012-01-01  2012-12-31      year
    4  2016-06-16  2016-06-19     range
    >>> out["problem"].isna().all()
    np.True_

    Doubtful and unreadable values are explained; missing markers are not a problem:

    >>> out = parse_dates(pd.Series(["05/06/2016", "31/02/2016", "43000", "s/f", None]))
    >>> for problem in out["problem"]:
    ...     print(problem)
    ambiguous day/month: '05/06/2016' read as day-first (5 June 2016)
    unparsed: '31/02/2016'
    looks like a number: '43000'
    <NA>
    <NA>
    >>> out["precision"].tolist()
    ['day', <NA>, <NA>, <NA>, <NA>]

    INGEMMET JavaScript dates and SERNANP epoch milliseconds:

    >>> parse_dates(pd.Series([
    ...     "Tue Dec 30 2025 00:00:00 GMT-0500 (hora estándar de Perú)", 1262304000000,
    ... ]))["date"].tolist()
    ['2025-12-30', '2010-01-01']
    """
    if not isinstance(values, pd.Series):
        raise TypeError(f"parse_dates expects a pandas Series, got {type(values).__name__}")
    if today is None:
        today = dt.date.today()
    elif isinstance(today, dt.datetime):
        today = today.date()

    raw, number_only = _as_text(values)
    raw = raw.str.replace(r"\s+", " ", regex=True).str.strip() if len(raw) else raw
    # Parse each distinct text once; rows are then taken from the distinct results.
    codes, uniques = pd.factorize(raw.where(~number_only, None))
    distinct = _parse_distinct(pd.Series(uniques, dtype=object), today)
    blank = pd.DataFrame({c: pd.Series([None], dtype="string") for c in COLUMNS})
    table = pd.concat([distinct, blank], ignore_index=True)
    out = table.take(np.where(codes < 0, len(distinct), codes)).reset_index(drop=True)
    if number_only.any():
        shown = _shown(raw.iloc[np.flatnonzero(number_only)])
        out.loc[number_only, "problem"] = ("looks like a number: '" + shown + "'").to_numpy()
    out.index = values.index
    log.debug(
        "parse_dates: %d values (%d distinct), %d parsed, %d missing or unparsed, "
        "%d with a problem",
        len(out),
        len(distinct),
        int(out["precision"].notna().sum()),
        int(out["precision"].isna().sum()),
        int(out["problem"].notna().sum()),
    )
    return out


def _parse_distinct(raw: pd.Series, today: dt.date) -> pd.DataFrame:
    """Parse texts (``raw``: object Series, RangeIndex); the output of :func:`parse_dates`."""
    state = _State(raw)
    text = _normalise(raw)
    missing = text.str.fullmatch(_MISSING).fillna(False).to_numpy(bool)
    state.done[missing] = True
    for run_pass in _PASSES:
        if state.done.all():
            break
        run_pass(state, text)
    state.fail(np.flatnonzero(~state.done), "unparsed")

    parsed = state.precision != None  # noqa: E711 (elementwise on an object array)
    y1, m1, d1 = state.y1[parsed], state.m1[parsed], state.d1[parsed]
    y2, m2, d2 = state.y2[parsed], state.m2[parsed], state.d2[parsed]
    problem = state.problem
    amb = parsed & state.ambiguous
    if amb.any():
        sel = amb[parsed]
        start = _human(y1[sel], m1[sel], d1[sel])
        end = _human(y2[sel], m2[sel], d2[sel])
        same = _key(y1[sel], m1[sel], d1[sel]) == _key(y2[sel], m2[sel], d2[sel])
        reading = start.where(same, start + " to " + end)
        shown = _shown(raw.iloc[np.flatnonzero(amb)]).reset_index(drop=True)
        message = np.full(len(raw), None, dtype=object)
        message[amb] = (
            "ambiguous day/month: '" + shown + "' read as day-first (" + reading + ")"
        ).to_numpy(dtype=object)
        _append(problem, amb, message)
    _append(problem, parsed & state.listed, "two dates listed, read as a range")
    start_key = _key(state.y1, state.m1, state.d1)
    _append(problem, parsed & (start_key < 1900_01_01), "before 1900")
    today_key = today.year * 10_000 + today.month * 100 + today.day
    _append(problem, parsed & (start_key > today_key), "future date")

    out = pd.DataFrame(
        {
            "date": pd.Series(None, index=range(len(raw)), dtype="string"),
            "date_end": pd.Series(None, index=range(len(raw)), dtype="string"),
            "precision": pd.Series(state.precision, dtype="string"),
            "problem": pd.Series(problem, dtype="string"),
        }
    )
    where = np.flatnonzero(parsed)
    out.loc[where, "date"] = _iso(y1, m1, d1)
    out.loc[where, "date_end"] = _iso(y2, m2, d2)
    return out
