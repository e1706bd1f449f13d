"""Community points and regions as vector-tile layers, as the web map shows them.

Both come from the privacy gate's view (:func:`geotools.privacy.compute_shareable_view`), and
of each only the allow-listed properties (:data:`geotools.maps.tiles.TILE_PROPERTIES`) go into
the archive. Region counts stay as the view has them: a public count below the minimum is the
text ``"<N"``, shown "fewer than N" by the viewer and drawn in a class of its own (``k`` -2),
never a number. Regions are classed as on the web map
(:func:`geotools.maps.region_layer.shade_classes`); the legend travels in the frame's
``attrs["legend"]``.
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geotools.maps.region_layer import region_label, shade_classes
from geotools.maps.style import NO_DATA_COLOUR, SUPPRESSED_COLOUR, TEXT

log = logging.getLogger(__name__)

#: Figures of a region a tile may carry (when the view has them), besides ``shade`` (the value
#: of the shading column) and ``k`` (its class).
REGION_FIGURES = ("communities", "incidents", "killings", "claimed_ha", "titled_ha")
#: Properties of a community point (``exact`` is derived from ``precision``).
COMMUNITY_FIGURES = ("name", "people", "population", "families", "incidents_nearby")


def _texts(values: pd.Series) -> pd.Series:
    """Values as text (``"<3"`` kept, numbers without a trailing ``.0``), None when missing."""
    def one(value: Any) -> str | None:
        if value is None or (isinstance(value, float) and not np.isfinite(value)):
            return None
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        text = str(value).strip()
        return text if text and text.lower() not in ("nan", "<na>", "none") else None

    return values.astype(object).map(one)


def _lonlat(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    geoms = frame.geometry.to_numpy()
    frame = frame.loc[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        frame = frame.to_crs(4326)
    return frame


def region_tiles(
    regions: gpd.GeoDataFrame, column: str | None, lang: str
) -> gpd.GeoDataFrame:
    """The region tile layer: names, allow-listed figures and the shading class.

    Parameters
    ----------
    regions : geopandas.GeoDataFrame
        The gate's region view (polygons with the ``region_stats`` columns of the profile).
    column : str or None
        The shading column (``--shade-regions``); None draws outlines only (``k`` -1).
    lang : {"es", "en"}
        Language of the legend.

    Returns
    -------
    geopandas.GeoDataFrame
        ``region_id``, ``region``, the :data:`REGION_FIGURES` the view has (as text, ``"<N"``
        kept), ``shade`` (the shading column's value, text), ``k`` (class: 0.. colour classes,
        -1 no data, -2 suppressed) and ``geometry`` (EPSG:4326); ``attrs["legend"]`` a viewer
        legend section and ``attrs["figures"]`` the labels of the figures.
    """
    frame = _lonlat(regions)
    t = TEXT[lang]
    out = pd.DataFrame(index=frame.index)
    for key in ("region_id", "region"):
        if key in frame.columns:
            out[key] = _texts(frame[key])
    figures = [c for c in REGION_FIGURES if c in frame.columns]
    for name in figures:
        values = frame[name]
        if name.endswith("_ha"):  # areas are never suppressed: to 0.1 ha, as the CSV
            values = pd.to_numeric(values, errors="coerce").round(1)
        out[name] = _texts(values)
    legend: dict[str, Any]
    if column is not None and column in frame.columns:
        shading = shade_classes(frame[column], column, lang)
        shade = frame[column]
        if column.endswith("_ha"):
            shade = pd.to_numeric(shade, errors="coerce").round(1)
        out["shade"] = _texts(shade)
        out["k"] = shading.classes.astype("int32")
        rows = [{"shape": "fill", "colour": c, "label": label}
                for c, label in zip(shading.colours, shading.labels, strict=True)]
        if shading.floor is not None:
            rows.append({"shape": "fill", "colour": SUPPRESSED_COLOUR,
                         "label": t["fewer_than"].format(n=shading.floor)})
        if (shading.classes == -1).any():
            rows.append({"shape": "fill", "colour": NO_DATA_COLOUR, "label": t["no_data"]})
        title = region_label(column, lang)
        legend = {"title": t["layer_regions"].format(column=title), "rows": rows,
                  "colours": shading.colours, "shade_label": title}
    else:
        out["k"] = np.full(len(frame), -1, dtype="int32")
        legend = {"title": t["regions_outline"], "rows": [
            {"shape": "line", "colour": "#555555", "label": t["regions_outline"]}],
            "colours": [], "shade_label": None}
    tiles = gpd.GeoDataFrame(out, geometry=frame.geometry.values, crs=4326).reset_index(drop=True)
    tiles.attrs["legend"] = legend
    tiles.attrs["figures"] = {name: region_label(name, lang) for name in figures}
    return tiles


def community_tiles(
    communities: gpd.GeoDataFrame, stats: pd.DataFrame | None
) -> gpd.GeoDataFrame:
    """The community tile layer: the points the view publishes with allow-listed figures.

    Parameters
    ----------
    communities : geopandas.GeoDataFrame
        Community points of the gate's view.
    stats : pandas.DataFrame or None
        The view's ``community_stats`` (``incidents_nearby`` recounted from what is
        published), keyed by ``community_id``.

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`COMMUNITY_FIGURES` that the view has, ``exact`` (1, or 0 where the place is
        approximate) and ``geometry`` (EPSG:4326).
    """
    frame = _lonlat(communities)
    out = pd.DataFrame(index=frame.index)
    joined = None
    if stats is not None and "community_id" in stats.columns and "community_id" in frame:
        keyed = stats.drop_duplicates("community_id").set_index(
            stats.drop_duplicates("community_id")["community_id"].astype(str))
        joined = keyed.reindex(frame["community_id"].astype(str).to_numpy())
    for name in COMMUNITY_FIGURES:
        if name in frame.columns:
            values = frame[name]
        elif joined is not None and name in joined.columns:
            values = pd.Series(joined[name].to_numpy(), index=frame.index)
        else:
            continue
        if name in ("population", "families", "incidents_nearby"):
            out[name] = pd.to_numeric(values, errors="coerce").round(0)
        else:
            out[name] = _texts(values)
    precision = (
        frame["precision"].astype("string").str.strip().str.lower().fillna("exact")
        if "precision" in frame.columns
        else pd.Series("exact", index=frame.index)
    )
    out["exact"] = precision.eq("exact").to_numpy(dtype="int32")
    return gpd.GeoDataFrame(out, geometry=frame.geometry.values, crs=4326).reset_index(drop=True)
