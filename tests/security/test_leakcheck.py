"""Issue 11, classes 4, 6 (README) and 9: the leak check is right both ways; README values are
literal; the demo's public key is not called secret.

Caught: withheld names planted with soft hyphens, zero-width characters, Cyrillic/Greek look-alike
letters, URL-encoding, hyphenation across a line break, first and last name apart, upper-cased
without accents; the refusal names the file and the field, never the value. Not raised: a withheld
value that is also an ordinary public value ("Nuevo" of "Nuevo Progreso", a department name also
in a public column, a description sharing its first words with a public one, a numeric id that is
also a parcel's id).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import unicodedata
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geotools.errors import GeotoolsError
from geotools.io import read_layer
from geotools.pipeline import run_publish
from geotools.privacy import PrivacyPolicy, derive_key, generalise_incidents
from geotools.publish import DEMO_KEY, LeakError, PublishOptions, check_bundle

SECRET = "leak-test-secret-0123456789abcdef"
VICTIM = "María Quispe Ramos"
CONF_VICTIM = "Héctor Pérez Sáenz"
REPORTER = "Juan Carlos Huamán Ríos"
SHARED = "Amenaza de muerte contra el presidente de la comunidad nativa"
PUBLIC_DESCRIPTION = SHARED + ", denunciada ante la fiscalía provincial"
RESTRICTED_DESCRIPTION = SHARED + " tras la reunión en la casa de su hermana junto al río"
MARKDOWN = "Radio | *Ucayali* [x](http://evil.example) <script>alert(1)</script> `rm`\nline two"


def _build(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    territories = gpd.GeoDataFrame(
        {
            "territory_id": ["T1", "T2"],
            "name": ["Nuevo Progreso", "Santa Rosa de Quebrada"],
            "department": ["Ucayali", "Ucayali"],
        },
        geometry=[shapely.box(-75.0, -8.6, -74.7, -8.3), shapely.box(-74.6, -8.6, -74.3, -8.3)],
        crs=4326,
    )
    parcels = gpd.GeoDataFrame(
        {"parcel_id": ["7", "12"], "tenure": ["titled", "in_process"], "obs|<b>x</b>": ["a", "b"]},
        geometry=[
            shapely.box(-74.95, -8.55, -74.9, -8.5),
            shapely.box(-74.52, -8.52, -74.48, -8.48),
        ],
        crs=4326,
    )
    rows = [
        ("1", "public", -74.95, -8.35, None, None, PUBLIC_DESCRIPTION, MARKDOWN),
        ("2", "restricted", -74.85, -8.45, VICTIM, REPORTER, RESTRICTED_DESCRIPTION, "Fed"),
        ("3", "restricted", -74.45, -8.45, None, None, "Sin detalles", "Fed"),
        ("7", "confidential", -74.75, -8.50, CONF_VICTIM, REPORTER, "Reunión secreta", "Fed"),
    ]
    incidents = pd.DataFrame(
        rows,
        columns=[
            "incident_id",
            "sensitivity",
            "lon",
            "lat",
            "victims",
            "reporter",
            "description",
            "source",
        ],
    )
    incidents["date"] = "2023-04-01"
    incidents["kind"] = "threat"
    incidents["sector"] = ["Centro", "Nuevo", "Nuevo", "Nuevo"]  # dropped column
    incidents["department"] = "Ucayali"  # dropped column, also public in territories
    paths = {
        "territories": folder / "territories.geojson",
        "parcels": folder / "parcels.geojson",
        "incidents": folder / "incidents.csv",
    }
    territories.to_file(paths["territories"])
    parcels.to_file(paths["parcels"])
    incidents.to_csv(paths["incidents"], index=False)
    return paths


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _build(tmp_path_factory.mktemp("leak-inputs"))


@pytest.fixture(scope="module")
def bundle(inputs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A public bundle of data full of ordinary values that are also withheld somewhere: on the
    old code its own leak check refused it ("Nuevo", "Ucayali", the shared description prefix,
    the confidential id 7 that is also a parcel id)."""
    out = tmp_path_factory.mktemp("leak-bundles") / "public"
    options = PublishOptions(
        secret=SECRET, lang="en", created="2024-01-01", keep_columns=("obs|<b>x</b>",)
    )  # a column outside the allow-list is published only when kept on purpose
    run_publish(inputs, out, options)
    return out


def _withheld(inputs: dict[str, Path]) -> Any:
    layers = {kind: read_layer(path, kind) for kind, path in inputs.items()}
    return generalise_incidents(
        layers["incidents"].frame,
        PrivacyPolicy(),
        derive_key(SECRET),
        territories=layers["territories"].frame,
    )


def _public_text(inputs: dict[str, Path]) -> str:
    layers = [read_layer(inputs[k], k).frame for k in ("territories", "parcels")]
    return "\n".join(
        str(v) for frame in layers for c in frame.columns if c != "geometry" for v in frame[c]
    )


def _check(root: Path, inputs: dict[str, Path]) -> float:
    generalised = _withheld(inputs)
    published = shapely.get_coordinates(generalised.published.geometry.to_numpy())
    return check_bundle(
        root, generalised.withheld, published, 2000.0, [SECRET], public_text=_public_text(inputs)
    )


def _words(text: str) -> set[str]:
    plain = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return {w for w in re.findall(r"[a-z]+", plain) if len(w) >= 4}


def test_the_bundle_of_ordinary_values_is_published(bundle: Path, inputs: dict[str, Path]) -> None:
    assert (bundle / "incidents.geojson").exists()
    everything = b"".join(p.read_bytes() for p in bundle.rglob("*") if p.is_file())
    assert b"Quispe" not in everything and b"Reuni\xc3\xb3n secreta" not in everything
    assert b"Nuevo Progreso" in everything and b"Ucayali" in everything
    assert _check(bundle, inputs) < 10


PLANTED = {
    "soft hyphens": "Ma\u00adría Quis\u00adpe Ra\u00admos",
    "zero-width characters": "María\u200b Qui\u200dspe\ufeff Ramos",
    "Cyrillic look-alikes": "Mаrіа Quіsре Rаmоs",  # а і р е о are Cyrillic
    "Greek look-alikes": "Μaría Quispe Ramοs",  # Μ and ο are Greek
    "URL-encoding": "https://example.org/?q=Mar%C3%ADa%20Quispe%20Ramos",
    "URL-encoding of another name": "/buscar/H%C3%A9ctor%20P%C3%A9rez",
    "hyphenated across a line break": "la dirigenta María Quis-\npe habló",
    "hyphenated across an HTML line break": "la dirigenta María Quis-<br>pe habló",
    "first and last name apart": "Quispe, según María, fue amenazada",
    "surname alone": "la familia Quispe",
    "upper case without accents": "MARIA QUISPE RAMOS",
    "a reporter in JSON escapes": json.dumps("Juan Carlos Huam\u00e1n R\u00edos"),
    "HTML entities": "Mar&iacute;a Quispe",
}


@pytest.mark.parametrize("planted", list(PLANTED.values()), ids=list(PLANTED))
def test_planted_name_is_caught_and_not_repeated(
    planted: str, bundle: Path, inputs: dict[str, Path], tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    page = copy / "map.html"
    page.write_text(
        page.read_text(encoding="utf-8") + f"\n<div class=note>{planted}</div>\n", encoding="utf-8"
    )
    with pytest.raises(LeakError, match=r"map\.html: personal field (victims|reporter)") as caught:
        _check(copy, inputs)
    message = str(caught.value)
    assert isinstance(caught.value, GeotoolsError)
    assert re.search(r"found in lines? \d+", message)  # where
    assert "To resolve" in message  # how
    assert planted not in message
    secret_words = _words(VICTIM) | _words(CONF_VICTIM) | _words(REPORTER)
    assert not (_words(message) & secret_words), _words(message) & secret_words


def test_a_name_in_a_table_names_the_column(
    bundle: Path, inputs: dict[str, Path], tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    table = pd.read_csv(copy / "territory_stats.csv", dtype=str)
    table["remark"] = "visited by R\u0456os"  # Cyrillic і: the reporter's surname
    table.to_csv(copy / "territory_stats.csv", index=False)
    with pytest.raises(LeakError) as caught:
        _check(copy, inputs)
    message = str(caught.value)
    where = "territory_stats.csv: personal field reporter (part of a name) found in column remark"
    assert where in message
    assert "rios" not in message.casefold()


def test_a_shared_prefix_does_not_hide_the_withheld_description(
    bundle: Path, inputs: dict[str, Path], tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    readme = copy / "README.md"
    readme.write_text(
        readme.read_text(encoding="utf-8") + "\n" + RESTRICTED_DESCRIPTION.upper() + "\n",
        encoding="utf-8",
    )
    with pytest.raises(LeakError, match=r"README\.md: description of a non-public incident"):
        _check(copy, inputs)


def test_a_numeric_withheld_id_is_caught_only_in_incident_ids(
    bundle: Path, inputs: dict[str, Path], tmp_path: Path
) -> None:
    parcels = gpd.read_file(bundle / "parcels.geojson")
    assert "7" in set(parcels["parcel_id"])  # shared with the confidential incident: no leak
    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    path = copy / "incidents.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["features"][0]["properties"]["incident_id"] = "7"
    path.write_text(json.dumps(data), encoding="utf-8")
    found = r"incidents\.geojson: id of a withheld incident found in column incident_id"
    with pytest.raises(LeakError, match=found):
        _check(copy, inputs)


def test_readme_values_are_literal_markdown(bundle: Path) -> None:
    readme = (bundle / "README.md").read_text(encoding="utf-8")
    # The escaped forms, on one line.
    escaped = (
        r"Radio \| \*Ucayali\* \[x\]\(http://evil.example\) \<script\>alert\(1\)\</script\> "
        r"\`rm\` line two"
    )
    assert escaped in readme
    assert r"| obs\|\<b\>x\</b\> |" in readme
    assert "<script>" not in readme and "\nline two" not in readme
    markdown_it = pytest.importorskip("markdown_it")
    rendered = markdown_it.MarkdownIt("commonmark").enable("table").render(readme)
    assert "<script" not in rendered and "<a href" not in rendered
    assert "<em>Ucayali</em>" not in rendered and "<b>x</b>" not in rendered
    text = html.unescape(re.sub(r"<[^>]+>", "", rendered))
    assert MARKDOWN.replace("\n", " ") in text
    assert "obs|<b>x</b>" in text
    # The parcels table keeps four cells per row.
    section = rendered.split("<h3>parcels.geojson</h3>", 1)[1].split("</table>", 1)[0]
    for row in re.findall(r"<tr>(.*?)</tr>", section, re.S):
        assert len(re.findall(r"<t[dh]", row)) == 4, row


def test_demo_key_is_not_called_secret(inputs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "demo"
    run_publish(inputs, out, PublishOptions(secret=DEMO_KEY, lang="en", created="2024-01-01"))
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "public demo key" in readme
    assert not re.search(r"secret key|key that is not published", readme, re.IGNORECASE)
    real = tmp_path / "real"
    run_publish(inputs, real, PublishOptions(secret=SECRET, lang="en", created="2024-01-01"))
    assert "secret key that is not published" in (real / "README.md").read_text(encoding="utf-8")
