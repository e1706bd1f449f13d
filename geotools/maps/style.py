"""The look shared by the web map and the static maps: palettes, texts and number formats.

Colours and class breaks (:data:`RISK_COLOURS`, :data:`TITLED_COLOURS`...), the texts of every
label, legend and popup in Spanish and English (:data:`TEXT`, :data:`VALUE_LABELS`, and
:data:`STATIC_TEXT` for what only the PNG maps say) and the formatting of numbers per language
(:func:`format_number`) live here, so that a printed report and its web map tell the same story.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np

from geotools.schema import LANGS, PROFILES

#: Class breaks (%) of the titled share of each territory; classes are closed on the left.
TITLED_BREAKS = (0, 10, 25, 50, 75, 100)
#: Sequential colours of the titled-share classes (ColorBrewer Purples, 5 classes).
TITLED_COLOURS = ("#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f")
NO_DATA_COLOUR = "#d9d9d9"
TERRITORY_OUTLINE = "#3f007d"

#: Risk classes of ``analysis.risk`` (low < 25 <= medium < 50 <= high < 75 <= critical) and their
#: colours (ColorBrewer RdYlGn, reversed).
RISK_COLOURS = {
    "low": "#1a9850",
    "medium": "#fee08b",
    "high": "#fc8d59",
    "critical": "#d73027",
}

TENURE_COLOURS = {
    "titled": "#1a9850",
    "cession_in_use": "#91cf60",
    "demarcated": "#fee08b",
    "in_process": "#fc8d59",
}
#: Outline and hatching colour, and hatching angle (degrees), of each concession kind.
CONCESSION_STYLES = {
    "mining": ("#d7191c", 45),
    "oil_gas": ("#111111", -45),
    "agribusiness": ("#a6611a", 0),
    "forestry": ("#7b3294", 90),
    "other": ("#636363", 45),
}
#: Outline dash pattern and opacity of each concession status.
STATUS_STYLES: dict[str, tuple[str | None, float]] = {
    "active": (None, 1.0),
    "in_process": ("8 5", 0.9),
    "expired": ("2 5", 0.5),
}
INCIDENT_COLOURS = {
    "killing": "#67000d",
    "protest_casualty": "#a50f15",
    "attack": "#e31a1c",
    "arson": "#fd8d3c",
    "threat": "#fecc5c",
    "eviction": "#6a3d9a",
    "invasion": "#b15928",
    "deforestation": "#4d9221",
    "spill": "#000000",
    "criminalization": "#1f78b4",
    "other": "#969696",
}
#: Colour and dash pattern of infrastructure lines by (normalised) kind; others use ``None``'s.
INFRASTRUCTURE_STYLES: dict[str | None, tuple[str, str | None]] = {
    "road": ("#7f4f24", None),
    "pipeline": ("#111111", "10 5"),
    "power_line": ("#e66101", "3 5"),
    None: ("#525252", "6 4"),
}


#: Class breaks and colours (ColorBrewer YlOrRd, 5 classes) of the risk hexagons (0-1 scale).
HEXAGON_BREAKS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
HEXAGON_COLOURS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")

#: Community points: stroke and fill (a hollow ring when the location is approximate).
COMMUNITY_COLOUR = "#1b7837"
#: Sequential colours of the region choropleth (ColorBrewer Oranges, 5 classes); regions
#: whose count is suppressed in a public map are drawn in :data:`SUPPRESSED_COLOUR`.
REGION_COLOURS = ("#feedde", "#fdbe85", "#fd8d3c", "#e6550d", "#a63603")
SUPPRESSED_COLOUR = "#f0f0f0"
#: Names of the polygon layers in community popups ("Inside 2 concessions"); others as given.
LAYER_LABELS: dict[str, dict[str, str]] = {
    "en": {"territories": "territories", "concessions": "concessions"},
    "es": {"territories": "territorios", "concessions": "concesiones"},
}


#: Opacity of the risk-class fill of territories (as in the interactive map).
FILL_ALPHA = 0.7
#: Fill of the untitled part of a territory on territory maps (distinct from tenure colours).
UNTITLED_COLOUR = "#f1b6da"
#: Outline and dot hatching of titled parcels on the overview (over the risk colour).
TITLED_EDGE = "#00441b"


#: Matplotlib hatch of each concession-kind hatching angle of ``geotools.maps``.
HATCHES = {45: "////", -45: "\\\\\\\\", 0: "----", 90: "||||"}


NBSP = "\u00a0"


TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Land titling and conflicts",
        "not_shown": "{n} incident(s) not shown: restricted or confidential records stay off "
        "maps meant for sharing until their locations are generalised.",
        "hint": "Click a territory for its figures; parcels and concessions open from their "
        "outline.",
        "layer_territories": "Territories (titled share)",
        "layer_parcels": "Parcels (tenure)",
        "layer_concessions": "Concessions",
        "layer_incidents": "Incidents",
        "layer_infrastructure": "Infrastructure",
        "base_map": "Map (OpenStreetMap)",
        "base_satellite": "Satellite (Esri)",
        "titled_share": "Titled share of the claimed territory",
        "no_data": "no data",
        "na": "n/a",
        "titled_sentence": "{titled} of {claimed}\u00a0ha titled ({pct})",
        "tenure_unknown_sentence": "{claimed}\u00a0ha claimed; tenure unknown",
        "secured": "Secured tenure",
        "untitled": "Untitled",
        "in_process": "Titling in process",
        "on_untitled": "on untitled land",
        "in_concessions": "Under concessions",
        "incidents": "Incidents",
        "incidents_value": "{inside} inside, {nearby} nearby",
        "id": "ID",
        "parcel": "Parcel",
        "incident": "Incident",
        "tenure": "Tenure",
        "concession": "Concession",
        "kind": "Type",
        "status": "Status",
        "holder": "Holder",
        "date": "Date",
        "severity": "Severity",
        "source": "Source",
        "precision": "Location precision",
        "withheld": "Description and victims withheld (restricted record).",
        "concession_status": "Status (outline)",
        "hollow_note": "white: approximate or generalised location",
        "size_note": "size: severity 1-5",
        "name": "Name",
        "infrastructure": "Infrastructure",
        "layer_risk": "Risk class",
        "risk_class": "Risk class",
        "risk_line": "Risk: {label}",
        "risk_score": " ({score}/100)",
        "drivers": "Drivers",
        "drivers_english": "",
        "risk_missing": "score is a lower bound: missing {missing}",
        "uncertain": "{n} uncertain",
        "forest_loss": "Forest loss",
        "group_base": "Base map",
        "group_territories": "Territories (shading)",
        "group_pressure": "Tenure and pressure",
        "group_incidents": "Incidents",
        "layer_heat": "Incidents (heat map)",
        "layer_hexagons": "Risk surface (hexagons)",
        "hex_risk": "Combined risk (0-1)",
        "hex_violence": "Violence",
        "hex_concessions": "Concession share",
        "hex_tenure": "Untitled share",
        "hex_tenure_unknown": "tenure not known here",
        "hex_tenure_partly": "tenure not known in part of this hexagon",
        "hexagons_tenure_note": "Where tenure is not known, the risk surface leaves it out and "
        "weighs violence and concessions only.",
        "search": "Find a community…",
        "fullscreen": "Full screen",
        "legend": "Legend",
        "fullscreen_exit": "Exit full screen",
        "search_none": "No territory or community by that name",
        "holders": "Concessions over it (holder, overlap)",
        "more": "and {n} more",
        "by_year": "Incidents in or near it, by year",
        "slider_title": "Incidents by year",
        "slider_only": "that year only",
        "slider_all": "All years",
        "slider_until": "Up to {year}",
        "slider_only_year": "{year} only",
        "slider_shown": "{n} shown",
        "cell_popup": "{n} incidents in this cell (about {km} km wide)",
        "cells_note": "Too many incidents for one marker each: counts per grid cell of about "
        "{km} km.",
        "hexagons_coarse_note": "Risk surface shown on coarser hexagons (about {km2} km² each) "
        "to keep the map small.",
        "generalised": "generalised (± {km} km)",
        "generalised_notice": "{n} incident location(s) generalised to protect the people "
        "involved: each is shown up to {km} km from where it happened.",
        "cluster_note": "numbers: grouped incidents (ring: most severe kind)",
        "heat_note": "heat map: switch on under Incidents",
        "sources": "Sources and licences",
        "sources_button": "Sources",
        "made_with": "Made with geotools {version}. Basemap tiles load from the internet "
        "(© OpenStreetMap contributors; satellite © Esri); everything else is in this file.",
        "layer_communities": "Communities (points)",
        "group_communities": "Communities and regions",
        "people": "People",
        "population": "Population",
        "families": "Families",
        "river": "River",
        "territory": "Territory",
        "in_layer": "In {layer}: {n}",
        "incidents_within": "Incidents within {km} km",
        "nearest_concession": "Nearest concession of each kind",
        "possibly_note": "?: possibly inside (the location is approximate)",
        "approximate_location": "Approximate location ({precision})",
        "community_note": "ring: approximate location; numbers: grouped communities",
        "layer_regions": "Regions: {column}",
        "regions_outline": "Regions",
        "fewer_than": "fewer than {n}",
        "region_suppressed_note": "counts below {n} are not shown (privacy)",
        "region_territories": "Territories",
        "region_claimed_ha": "Claimed land",
        "region_titled_ha": "Titled land",
        "region_communities": "Community points",
        "region_communities_uncertain": "Community points possibly here",
        "region_incidents": "Incidents",
        "region_incidents_uncertain": "Incidents possibly here (imprecise location)",
        "region_killings": "Killings",
        "region_concession": "Concessions: {kind}",
        "region_incidents_kind": "Incidents: {kind}",
        "region_incidents_year": "Incidents in {year}",
    },
    "es": {
        "title": "Titulación y conflictos territoriales",
        "not_shown": "{n} incidente(s) no mostrado(s): los registros restringidos o "
        "confidenciales no se muestran en mapas para compartir hasta generalizar su ubicación.",
        "hint": "Haga clic en un territorio para ver sus cifras; predios y concesiones se abren "
        "desde su borde.",
        "layer_territories": "Territorios (% titulado)",
        "layer_parcels": "Predios (tenencia)",
        "layer_concessions": "Concesiones",
        "layer_incidents": "Incidentes",
        "layer_infrastructure": "Infraestructura",
        "base_map": "Mapa (OpenStreetMap)",
        "base_satellite": "Satélite (Esri)",
        "titled_share": "Porcentaje titulado del territorio reclamado",
        "no_data": "sin datos",
        "na": "s/d",
        "titled_sentence": "{titled} de {claimed}\u00a0ha tituladas ({pct})",
        "tenure_unknown_sentence": "{claimed}\u00a0ha reclamadas; tenencia desconocida",
        "secured": "Tenencia asegurada",
        "untitled": "No titulado",
        "in_process": "Titulación en trámite",
        "on_untitled": "sobre tierra no titulada",
        "in_concessions": "En concesiones",
        "incidents": "Incidentes",
        "incidents_value": "{inside} dentro, {nearby} en el entorno",
        "id": "Código",
        "parcel": "Predio",
        "incident": "Incidente",
        "tenure": "Tenencia",
        "concession": "Concesión",
        "kind": "Tipo",
        "status": "Estado",
        "holder": "Titular",
        "date": "Fecha",
        "severity": "Gravedad",
        "source": "Fuente",
        "precision": "Precisión de la ubicación",
        "withheld": "Descripción y víctimas reservadas (registro restringido).",
        "concession_status": "Estado (borde)",
        "hollow_note": "blanco: ubicación aproximada o generalizada",
        "size_note": "tamaño: gravedad 1-5",
        "name": "Nombre",
        "infrastructure": "Infraestructura",
        "layer_risk": "Clase de riesgo",
        "risk_class": "Clase de riesgo",
        "risk_line": "Riesgo: {label}",
        "risk_score": " ({score}/100)",
        "drivers": "Motivos",
        "drivers_english": "(motivos en inglés)",
        "risk_missing": "puntaje mínimo: faltan {missing}",
        "uncertain": "{n} inciertos",
        "forest_loss": "Pérdida de bosque",
        "group_base": "Mapa base",
        "group_territories": "Territorios (color)",
        "group_pressure": "Tenencia y presión",
        "group_incidents": "Incidentes",
        "layer_heat": "Incidentes (mapa de calor)",
        "layer_hexagons": "Superficie de riesgo (hexágonos)",
        "hex_risk": "Riesgo combinado (0-1)",
        "hex_violence": "Violencia",
        "hex_concessions": "Proporción en concesiones",
        "hex_tenure": "Proporción no titulada",
        "hex_tenure_unknown": "tenencia no conocida aquí",
        "hex_tenure_partly": "tenencia no conocida en parte de este hexágono",
        "hexagons_tenure_note": "Donde la tenencia no se conoce, la superficie de riesgo la "
        "deja fuera y pondera solo violencia y concesiones.",
        "search": "Buscar una comunidad…",
        "fullscreen": "Pantalla completa",
        "legend": "Leyenda",
        "fullscreen_exit": "Salir de pantalla completa",
        "search_none": "Ningún territorio ni comunidad con ese nombre",
        "holders": "Concesiones superpuestas (titular, superposición)",
        "more": "y {n} más",
        "by_year": "Incidentes dentro o en el entorno, por año",
        "slider_title": "Incidentes por año",
        "slider_only": "solo ese año",
        "slider_all": "Todos los años",
        "slider_until": "Hasta {year}",
        "slider_only_year": "Solo {year}",
        "slider_shown": "{n} mostrados",
        "cell_popup": "{n} incidentes en esta celda (de unos {km} km)",
        "cells_note": "Demasiados incidentes para un marcador cada uno: conteos por celda de "
        "unos {km} km.",
        "hexagons_coarse_note": "Superficie de riesgo en hexágonos más grandes (unos {km2} km² "
        "cada uno) para que el mapa sea liviano.",
        "generalised": "generalizada (± {km} km)",
        "generalised_notice": "{n} ubicación(es) de incidentes generalizada(s) para proteger a "
        "las personas: cada una se muestra hasta a {km} km del lugar de los hechos.",
        "cluster_note": "números: incidentes agrupados (anillo: tipo más grave)",
        "heat_note": "mapa de calor: actívelo en Incidentes",
        "sources": "Fuentes y licencias",
        "sources_button": "Fuentes",
        "made_with": "Hecho con geotools {version}. Los mosaicos del mapa base se cargan de "
        "internet (© colaboradores de OpenStreetMap; satélite © Esri); todo lo demás está en "
        "este archivo.",
        "layer_communities": "Comunidades (puntos)",
        "group_communities": "Comunidades y regiones",
        "people": "Pueblo",
        "population": "Población",
        "families": "Familias",
        "river": "Río",
        "territory": "Territorio",
        "in_layer": "En {layer}: {n}",
        "incidents_within": "Incidentes a menos de {km} km",
        "nearest_concession": "Concesión más cercana de cada tipo",
        "possibly_note": "?: posiblemente dentro (la ubicación es aproximada)",
        "approximate_location": "Ubicación aproximada ({precision})",
        "community_note": "anillo: ubicación aproximada; números: comunidades agrupadas",
        "layer_regions": "Regiones: {column}",
        "regions_outline": "Regiones",
        "fewer_than": "menos de {n}",
        "region_suppressed_note": "no se muestran conteos menores que {n} (privacidad)",
        "region_territories": "Territorios",
        "region_claimed_ha": "Tierra reclamada",
        "region_titled_ha": "Tierra titulada",
        "region_communities": "Comunidades (puntos)",
        "region_communities_uncertain": "Comunidades posiblemente aquí",
        "region_incidents": "Incidentes",
        "region_incidents_uncertain": "Incidentes posiblemente aquí (ubicación imprecisa)",
        "region_killings": "Asesinatos",
        "region_concession": "Concesiones: {kind}",
        "region_incidents_kind": "Incidentes: {kind}",
        "region_incidents_year": "Incidentes en {year}",
    },
}

#: Labels of vocabulary values, per column and language.
VALUE_LABELS: dict[str, dict[str, dict[str, str]]] = {
    "tenure": {
        "en": {
            "titled": "Titled",
            "cession_in_use": "Cession in use",
            "demarcated": "Demarcated",
            "in_process": "In process",
        },
        "es": {
            "titled": "Titulado",
            "cession_in_use": "Cesión en uso",
            "demarcated": "Demarcado",
            "in_process": "En trámite",
        },
    },
    "concession_kind": {
        "en": {
            "mining": "Mining",
            "oil_gas": "Oil and gas",
            "agribusiness": "Agribusiness",
            "forestry": "Forestry",
            "other": "Other",
        },
        "es": {
            "mining": "Minería",
            "oil_gas": "Hidrocarburos",
            "agribusiness": "Agroindustria",
            "forestry": "Forestal",
            "other": "Otra",
        },
    },
    "status": {
        "en": {"active": "Active", "in_process": "In process", "expired": "Expired"},
        "es": {"active": "Vigente", "in_process": "En trámite", "expired": "Extinguida"},
    },
    "incident_kind": {
        "en": {
            "threat": "Threat",
            "attack": "Attack",
            "killing": "Killing",
            "arson": "Arson",
            "eviction": "Eviction",
            "invasion": "Invasion",
            "deforestation": "Deforestation",
            "spill": "Spill",
            "protest_casualty": "Protest casualty",
            "criminalization": "Criminalization",
            "other": "Other",
        },
        "es": {
            "threat": "Amenaza",
            "attack": "Agresión",
            "killing": "Asesinato",
            "arson": "Incendio provocado",
            "eviction": "Desalojo",
            "invasion": "Invasión",
            "deforestation": "Deforestación",
            "spill": "Derrame",
            "protest_casualty": "Víctima en protesta",
            "criminalization": "Criminalización",
            "other": "Otro",
        },
    },
    "precision": {
        "en": {
            "exact": "exact",
            "approximate": "approximate",
            "locality": "locality",
            "district": "district",
        },
        "es": {
            "exact": "exacta",
            "approximate": "aproximada",
            "locality": "localidad",
            "district": "distrito",
        },
    },
    "risk_class": {
        "en": {"low": "low", "medium": "medium", "high": "high", "critical": "critical"},
        "es": {"low": "bajo", "medium": "medio", "high": "alto", "critical": "crítico"},
    },
    # The components of the risk score (analysis.risk.COMPONENTS), as risk_missing lists them.
    "risk_component": {
        "en": {
            "tenure": "tenure",
            "concessions": "concessions",
            "violence": "violence",
            "deforestation": "deforestation",
            "infrastructure": "infrastructure",
        },
        "es": {
            "tenure": "tenencia",
            "concessions": "concesiones",
            "violence": "violencia",
            "deforestation": "deforestación",
            "infrastructure": "infraestructura",
        },
    },
    "infrastructure_kind": {
        "en": {"road": "Road", "pipeline": "Pipeline", "power_line": "Power line"},
        "es": {"road": "Carretera", "pipeline": "Ducto", "power_line": "Línea eléctrica"},
    },
    # Layer kinds (geotools.io.LAYER_KINDS, areas, regions), as the sources box names them.
    "layer": {
        "en": {
            "territories": "Territories",
            "parcels": "Parcels",
            "concessions": "Concessions",
            "incidents": "Incidents",
            "infrastructure": "Infrastructure",
            "communities": "Communities",
            "areas": "Areas",
            "regions": "Regions",
        },
        "es": {
            "territories": "Territorios",
            "parcels": "Predios",
            "concessions": "Concesiones",
            "incidents": "Incidentes",
            "infrastructure": "Infraestructura",
            "communities": "Comunidades",
            "areas": "Áreas",
            "regions": "Regiones",
        },
    },
}


def layer_label(kind: str, lang: str) -> str:
    """Return the name of a layer kind in a map's language (``VALUE_LABELS["layer"]``).

    Parameters
    ----------
    kind : str
        Layer kind, e.g. ``"concessions"``; a kind without a label (an ``--areas`` name) is
        returned as it is.
    lang : {"es", "en"}
        Language of the map.

    Returns
    -------
    str
        E.g. ``"Concesiones"`` in Spanish, ``"Concessions"`` in English.
    """
    return VALUE_LABELS["layer"][lang].get(kind, kind)

#: Label prefix of popup rows that break down the row above them.
SUB_ROW = "&nbsp;&nbsp;· "


#: Texts of the static maps not already in :data:`geotools.maps.TEXT`.
STATIC_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "overview_subtitle": "Claimed territories shaded by risk class",
        "territory_subtitle": "Titled and untitled land, concessions and incidents",
        "titled_land": "Titled land (parcels)",
        "untitled_land": "Untitled (claimed, not secured)",
        "territory_outline": "Claimed territory",
        "other_territories": "Other territories",
        "north": "N",
        "caption": "geotools {version} · {date} · CRS {crs}; scale true at the map centre · "
        "hectares measured in {area_crs}, not on this drawing · no basemap (drawn offline)",
        "data_as_of": "data as of {date}",
        "latest_record": "data: latest record {date}",
        "no_date": "data date unknown",
        "in_concessions_line": "Under concessions: {value}",
        "incidents_line": "Incidents: {value}",
        "drivers_note": "(drivers in English)",
    },
    "es": {
        "overview_subtitle": "Territorios reclamados según clase de riesgo",
        "territory_subtitle": "Tierra titulada y no titulada, concesiones e incidentes",
        "titled_land": "Tierra titulada (predios)",
        "untitled_land": "No titulada (reclamada, sin asegurar)",
        "territory_outline": "Territorio reclamado",
        "other_territories": "Otros territorios",
        "north": "N",
        "caption": "geotools {version} · {date} · SRC {crs}; escala exacta en el centro del "
        "mapa · hectáreas medidas en {area_crs}, no sobre este dibujo · sin mapa base "
        "(dibujado sin conexión)",
        "data_as_of": "datos al {date}",
        "latest_record": "datos: último registro {date}",
        "no_date": "fecha de los datos desconocida",
        "in_concessions_line": "En concesiones: {value}",
        "incidents_line": "Incidentes: {value}",
        "drivers_note": "(motivos en inglés)",
    },
}


# --------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------


def check_lang(lang: str) -> None:
    """Raise ValueError unless ``lang`` is one of :data:`geotools.schema.LANGS`.

    Parameters
    ----------
    lang : str
        Language code to check.

    Raises
    ------
    ValueError
        ``lang`` is not ``"es"`` or ``"en"``.
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}; got {lang!r}.")


#: Average area of an H3 hexagon by resolution, km² (h3.average_hexagon_area), for the notice of
#: a map whose risk hexagons were coarsened to keep it under its budget.
H3_AREA_KM2 = {4: 1770.3, 5: 252.9, 6: 36.1, 7: 5.2}

#: Basemaps a web map can open on: OpenStreetMap (satellite selectable), satellite imagery
#: (OpenStreetMap selectable), or none: no tiles at all (nothing is requested from a tile
#: server, e.g. for a map read offline), a plain background with a 1-degree graticule.
BASEMAPS = ("osm", "satellite", "none")
#: Default basemap of ``geotools map`` and ``geotools publish``.
DEFAULT_BASEMAP = "osm"


def check_basemap(basemap: str) -> None:
    """Raise ValueError unless ``basemap`` is one of :data:`BASEMAPS`.

    Parameters
    ----------
    basemap : str
        Basemap to check.

    Raises
    ------
    ValueError
        ``basemap`` is not ``"osm"``, ``"satellite"`` or ``"none"``.
    """
    if basemap not in BASEMAPS:
        raise ValueError(f"basemap must be one of {', '.join(BASEMAPS)}, not {basemap!r}.")


def check_profile(profile: str) -> None:
    """Raise ValueError unless ``profile`` is one of :data:`geotools.schema.PROFILES`.

    Parameters
    ----------
    profile : str
        Profile to check.

    Raises
    ------
    ValueError
        ``profile`` is not ``"public"`` or ``"internal"``.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, not {profile!r}.")


def format_number(value: Any, lang: str, decimals: int = 0) -> str:
    """Format a number for display in ``lang``.

    English uses a comma for thousands and a point for decimals (``8,600``, ``2.3``). Spanish
    uses a no-break space (U+00A0) for thousands and a comma for decimals (``8 600``, ``2,3``), as
    recommended by the RAE and the SI; the no-break space keeps a number on one line.

    Parameters
    ----------
    value : number or None
        Value to format; ``None``, NaN and non-numbers give the language's "n/a". Halves are
        rounded away from zero (``2.675`` gives ``2.68``, as in a spreadsheet).
    lang : {"es", "en"}
        Language.
    decimals : int, default 0
        Number of decimals.

    Returns
    -------
    str
        Formatted number (plain text, not escaped).
    """
    check_lang(lang)
    number = _as_float(value)
    if not np.isfinite(number):
        return TEXT[lang]["na"]
    # Half away from zero on the shortest decimal form (as spreadsheets do): 2.675 -> 2.68.
    rounded = Decimal(repr(number)).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    text = f"{abs(rounded) if rounded.is_zero() else rounded:,.{decimals}f}"
    if lang == "es":
        text = text.replace(",", NBSP).replace(".", ",")
    return text


def format_hectares(value: Any, lang: str) -> str:
    """Format an area as ``"8,600 ha"``: whole hectares, one decimal below 10 ha.

    Parameters
    ----------
    value : number or None
        Area in hectares.
    lang : {"es", "en"}
        Language.

    Returns
    -------
    str
        Number and unit joined by a no-break space; "n/a" without unit when missing.
    """
    text = hectare_number(value, lang)
    return text if text == TEXT[lang]["na"] else f"{text}{NBSP}ha"


def hectare_number(value: Any, lang: str) -> str:
    """Format a number of hectares without unit: whole hectares, one decimal below 10 ha.

    Parameters
    ----------
    value : Any
        Area in hectares; None, NaN and non-numbers give the language's "n/a".
    lang : {"es", "en"}
        Language of the separators (see :func:`format_number`).

    Returns
    -------
    str
        Plain text, not escaped.
    """
    return format_number(value, lang, 1 if 0 < abs(_as_float(value)) < 10 else 0)


def format_percent(value: Any, lang: str) -> str:
    """Format a percentage (0-100) with one decimal, as ``"2.3 %"`` (no-break space before %).

    Parameters
    ----------
    value : number or None
        Percentage.
    lang : {"es", "en"}
        Language.

    Returns
    -------
    str
        Formatted percentage.
    """
    text = format_number(value, lang, 1)
    return text if text == TEXT[lang]["na"] else f"{text}{NBSP}%"


def _as_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def component_names(value: Any, lang: str) -> str:
    """Name, in ``lang``, the risk components listed in ``risk_missing``.

    Names outside the vocabulary are kept as given; the result is plain text (escape it).

    Parameters
    ----------
    value : Any
        Comma-separated component names, any case (``"violence,deforestation"``); anything
        but a non-blank string gives ``""``.
    lang : {"es", "en"}
        Language of the names.

    Returns
    -------
    str
        The names joined by ``", "``.

    Examples
    --------
    >>> component_names("violence,deforestation", "es")
    'violencia, deforestación'
    """
    if not isinstance(value, str) or not value.strip():
        return ""
    table = VALUE_LABELS["risk_component"][lang]
    parts = (part.strip() for part in value.split(","))
    return ", ".join(table.get(part.lower(), part) for part in parts if part)


def infrastructure_style(code: str | None) -> tuple[str, str | None]:
    """Return the colour and dash pattern of an infrastructure kind (grey dashes for others).

    Parameters
    ----------
    code : str or None
        Canonical kind (``road``, ``pipeline``, ``power_line``); None or any other kind gets
        the style of unknown kinds.

    Returns
    -------
    colour : str
        Hex colour of the line.
    dash : str or None
        SVG ``dashArray`` (e.g. ``"10 5"``), None for a solid line.
    """
    return INFRASTRUCTURE_STYLES.get(code, INFRASTRUCTURE_STYLES[None])
