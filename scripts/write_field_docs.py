"""Write docs/fields.md from the alias tables in geotools/schema.py."""

from pathlib import Path

from geotools.schema import describe_field_mapping

if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / "docs" / "fields.md"
    target.write_text(describe_field_mapping(), encoding="utf-8")
    print(f"wrote {target}")
