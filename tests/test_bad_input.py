"""No input, however broken, produces a traceback: one 'error:' line and exit code 1."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from geotools.cli import main

GARBAGE = {
    "empty.geojson": b"",
    "truncated.geojson": b'{"type": "FeatureCollection", "features": [{"type": "Feat',
    "binary.gpkg": bytes(range(256)) * 8,
    "binary.shp": b"\x00\x00\x27\x0a" + bytes(200),
    "not_a_zip.zip": b"PK\x03\x04 broken",
    "empty.csv": b"",
    "no_coords.csv": b"a,b,c\n1,2,3\n",
    "latin1.csv": "nombre,lat,lon\nAsh\xe1ninka,-8.4,-74.6\n".encode("latin-1"),
    "text.kml": b"<kml><Document><Placemark><name>x</name></Placemark>",
    "junk.parquet": b"PAR1 not really",
    "table.fgb": b"fgb\x03junk",
}


@pytest.mark.parametrize("name", sorted(GARBAGE))
@pytest.mark.parametrize("kind", ["territories", "incidents"])
def test_garbage_file_is_one_clean_error(tmp_path, name, kind):
    path = tmp_path / name
    path.write_bytes(GARBAGE[name])
    result = CliRunner().invoke(main, ["validate", str(path), "--as", kind])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    if errors:  # the file cannot be used at all: one line naming it and the problem
        assert len(errors) == 1, result.output
        assert name in errors[0]
    else:  # it could be read, but every feature had to be rejected, each with its reason
        assert " 0 valid" in result.output
        assert "rejected" in result.output
    assert path.read_bytes() == GARBAGE[name]  # never modified


def test_a_folder_instead_of_a_file(tmp_path):
    result = CliRunner().invoke(main, ["validate", str(tmp_path), "--as", "parcels"])
    assert result.exit_code == 1
    assert result.output.startswith("error:")
