"""Privacy rules for shared outputs: withheld fields, sensitivity, displacement, suppression.

The people in an incident layer are defenders at risk (DESIGN §7). What leaves in a ``public``
bundle is decided here, once, and :mod:`geotools.publish` only writes what this module returns:

- **Personal fields never leave**: ``victims``, ``reporter``, ``phone``, ``contact``, ``email`` and
  any column whose name looks personal (:data:`PERSONAL_NAME_PATTERN`), in every layer. Incidents
  are published through a whitelist (:data:`PUBLIC_INCIDENT_COLUMNS`): any other column of the
  incidents layer (``lon``/``lat`` copies, form fields...) is dropped. ``description`` is kept for
  ``public`` incidents only.
- **Sensitivity**: ``public`` incidents are published as given; ``restricted`` ones (and those with
  no sensitivity) are displaced (:func:`displace_points`) or aggregated to H3 hexagons;
  ``confidential`` ones, and any value outside the vocabulary, are left out and appear only in
  aggregate counts suppressed below a minimum (:func:`suppress_counts`).
- **Displacement** is keyed and kept. A record's identity is a keyed hash (HMAC-SHA256 under
  the publish key) of its true location rounded to 1e-6 degrees (:func:`compute_identities`): not
  its row, not its id (ids may be missing, duplicated or renumbered), so every release of the same
  record, and every record at the same true place, has one identity. Its published position is
  drawn once, from a seed keyed by the identity *and* the displacement range (direction and
  distance independent, so two ranges never put two points on one ray), and then kept in a
  :class:`PositionStore` beside the key: every later release reuses it whatever the options, or
  withholds the record when the stored point no longer meets a constraint; it never draws a
  second point. The distance is uniform over the area of the geodesic annulus ``[min, max]``
  metres, the bearing uniform; of :data:`CANDIDATES` candidate offsets per record the first that
  keeps the record in the same territories (and districts, when given) and out of water is used.
  A record with no acceptable candidate is not published as a point (only counted).
- **One gate** (:func:`compute_shareable_view`): every shared output (map, PNGs, bundle) is built
  from the view it returns. Sensitivity is read from every privacy-marker column
  (:func:`resolve_sensitivity`), ``location_generalised`` strictly (:func:`parse_flag`), every
  layer through an allow-list of columns (:data:`PUBLIC_LAYER_COLUMNS`), every count, yearly row,
  risk score and drivers sentence recomputed from the incidents published, at their published
  positions (:func:`recount_incidents`), and a public policy below the safe floors is refused
  (:func:`check_public_policy`).

The rules are in :mod:`geotools.privacy.rules`, the key and the position store in
:mod:`geotools.privacy.keys`, displacement and aggregation in :mod:`geotools.privacy.generalise`,
the gate in :mod:`geotools.privacy.view`.
"""

from geotools.errors import PrivacyError
from geotools.privacy.generalise import (
    CANDIDATES,
    Displacement,
    GeneralisedIncidents,
    Withheld,
    aggregate_to_hexagons,
    displace_points,
    generalise_incidents,
    radius_of_precision,
    range_context,
)
from geotools.privacy.keys import (
    IDENTITY_DECIMALS,
    POSITIONS_ENV,
    STORE_FORMAT,
    PositionStore,
    compute_identities,
    compute_seeds,
    derive_key,
    draw_uniforms,
)
from geotools.privacy.permission import (
    PermissionRequiredError,
    check_permissions,
    needs_permission,
)
from geotools.privacy.places import (
    is_region_incident_column,
    region_frame,
    share_communities,
    share_regions,
)
from geotools.privacy.rules import (
    FLOOR_MAX_HEX_RESOLUTION,
    FLOOR_MIN_COUNT,
    FLOOR_MIN_DISTANCE_M,
    FLOOR_RING_WIDTH_M,
    FREE_TEXT_COLUMNS,
    GENERALISED_COLUMN,
    METHOD_COLUMN,
    PERSONAL_FIELDS,
    PERSONAL_NAME_PATTERN,
    PRIVACY_MARKER_PATTERN,
    PROFILES,
    PUBLIC_INCIDENT_COLUMNS,
    PUBLIC_LAYER_COLUMNS,
    ROUNDING_MARGIN_M,
    SENSITIVITY_PUBLIC,
    SENSITIVITY_RESTRICTED,
    UNCERTAINTY_COLUMN,
    VOCABULARY_COLUMNS,
    PrivacyPolicy,
    allow_columns,
    check_public_policy,
    classify_sensitivity,
    find_personal_columns,
    find_privacy_markers,
    normalise_text,
    parse_flag,
    resolve_sensitivity,
    select_drawable,
    suppress_counts,
)
from geotools.privacy.view import ShareableView, compute_shareable_view, recount_incidents

__all__ = [
    "CANDIDATES",
    "FLOOR_MAX_HEX_RESOLUTION",
    "FLOOR_MIN_COUNT",
    "FLOOR_MIN_DISTANCE_M",
    "FLOOR_RING_WIDTH_M",
    "FREE_TEXT_COLUMNS",
    "GENERALISED_COLUMN",
    "IDENTITY_DECIMALS",
    "METHOD_COLUMN",
    "PERSONAL_FIELDS",
    "PERSONAL_NAME_PATTERN",
    "POSITIONS_ENV",
    "PRIVACY_MARKER_PATTERN",
    "PROFILES",
    "PUBLIC_INCIDENT_COLUMNS",
    "PUBLIC_LAYER_COLUMNS",
    "ROUNDING_MARGIN_M",
    "SENSITIVITY_PUBLIC",
    "SENSITIVITY_RESTRICTED",
    "STORE_FORMAT",
    "UNCERTAINTY_COLUMN",
    "VOCABULARY_COLUMNS",
    "Displacement",
    "GeneralisedIncidents",
    "PermissionRequiredError",
    "PositionStore",
    "PrivacyError",
    "PrivacyPolicy",
    "ShareableView",
    "Withheld",
    "aggregate_to_hexagons",
    "allow_columns",
    "check_permissions",
    "check_public_policy",
    "classify_sensitivity",
    "compute_identities",
    "compute_seeds",
    "compute_shareable_view",
    "derive_key",
    "displace_points",
    "draw_uniforms",
    "find_personal_columns",
    "find_privacy_markers",
    "generalise_incidents",
    "is_region_incident_column",
    "needs_permission",
    "normalise_text",
    "parse_flag",
    "radius_of_precision",
    "range_context",
    "recount_incidents",
    "region_frame",
    "resolve_sensitivity",
    "select_drawable",
    "share_communities",
    "share_regions",
    "suppress_counts",
]
