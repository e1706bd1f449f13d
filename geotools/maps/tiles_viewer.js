// The viewer of a geotools tile folder (geotools/maps/tiles_viewer.py writes the page).
// Constant code: no data and no template; every data text is inserted with textContent.
"use strict";
(function () {
const C = JSON.parse(document.getElementById("gt-config").textContent);
const T = C.text, V = C.values, lang = C.lang;
function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}
function missing(v) { return v === undefined || v === null || v === "" || Number.isNaN(Number(v)); }
function fmt(v, d) {
  if (missing(v)) return T.na;
  const [whole, frac] = Math.abs(Number(v)).toFixed(d).split(".");
  const sep = lang === "es" ? "\u00a0" : ",";
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, sep);
  const text = (Number(v) < 0 ? "-" : "") + grouped + (frac ? (lang === "es" ? "," : ".") + frac : "");
  return text;
}
function ha(v) { return missing(v) ? T.na : fmt(v, Math.abs(v) > 0 && Math.abs(v) < 10 ? 1 : 0) + "\u00a0ha"; }
function pct(v) { return missing(v) ? T.na : fmt(v, 1) + "\u00a0%"; }
function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (m, key) => (key in values ? values[key] : m));
}
function label(table, code) {
  if (code === undefined || code === null) return T.na;
  const names = V[table] || {};
  return Object.prototype.hasOwnProperty.call(names, code) ? names[code] : String(code);
}

// Title box
const title = document.getElementById("gt-title");
title.appendChild(el("div", "gt-t", C.title));
// The first note is the click hint, left out on small screens; notices of withheld or
// generalised incidents always show.
C.notes.forEach((note, i) => title.appendChild(el("div", i === 0 ? "gt-hint gt-tip" : "gt-hint", note)));

// Map
const protocol = new pmtiles.Protocol();
maplibregl.addProtocol("pmtiles", protocol.tile);
const style = C.style;
Object.values(style.sources).forEach((source) => {
  if (source.file) {
    source.tiles = ["pmtiles://" + new URL(source.file, window.location.href).href + "/{z}/{x}/{y}"];
    delete source.file;
  }
});
const wide = window.innerWidth > 700;
const pad = {top: 30, bottom: 30, right: 60, left: wide ? Math.min(320, window.innerWidth * 0.35) : 30};
const map = new maplibregl.Map({
  container: "map", style: style, bounds: C.bounds, fitBoundsOptions: {padding: pad, maxZoom: 14},
  attributionControl: {compact: true}, dragRotate: false, pitchWithRotate: false,
});
map.touchZoomRotate.disableRotation();
map.addControl(new maplibregl.NavigationControl({showCompass: false}), "top-right");
map.addControl(new maplibregl.FullscreenControl(), "top-right");
map.addControl(new maplibregl.ScaleControl(), "bottom-right");
window.gtMap = map;
// Basemap tiles that cannot load (no network) leave a plain background; other errors are shown.
map.on("error", (event) => {
  if (event.sourceId === "basemap") return;
  console.error(event.error || event);
});

// Panel: layers, shading, legend, sources
const panel = document.getElementById("gt-panel");
panel.querySelector("summary").textContent = T.legend;
// Embedded (800 x 600 or less) or on a phone the legend starts folded, one click away.
if (window.innerWidth <= 600 || window.innerHeight <= 600) panel.open = false;
panel.appendChild(el("div", "gt-sec", T.layers));
C.layers.forEach((layer) => {
  const row = el("label", "gt-row");
  const box = el("input");
  box.type = "checkbox"; box.checked = layer.shown;
  box.addEventListener("change", () => {
    layer.ids.forEach((id) => {
      const off = !box.checked || (C.shading.length && id.startsWith("territories-") &&
        id !== "territories-outline" && id !== shaded);
      map.setLayoutProperty(id, "visibility", off ? "none" : "visible");
    });
  });
  row.appendChild(box); row.appendChild(el("span", null, layer.label));
  panel.appendChild(row);
});
let shaded = C.shading.length ? C.shading[0].id : null;
if (C.shading.length) {
  panel.appendChild(el("div", "gt-sec", T.shading));
  C.shading.forEach((choice, i) => {
    const row = el("label", "gt-row");
    const radio = el("input");
    radio.type = "radio"; radio.name = "gt-shading"; radio.checked = i === 0;
    radio.addEventListener("change", () => {
      shaded = choice.id;
      C.shading.forEach((c) => map.setLayoutProperty(c.id, "visibility", c.id === shaded ? "visible" : "none"));
    });
    row.appendChild(radio); row.appendChild(el("span", null, choice.label));
    panel.appendChild(row);
  });
}
C.legend.forEach((section) => {
  panel.appendChild(el("div", "gt-sec", section.title));
  section.rows.forEach((item) => {
    const row = el("div", item.shape === "note" ? "gt-note" : "gt-row");
    if (item.shape === "fill") { const s = el("span", "gt-sw"); s.style.background = item.colour; row.appendChild(s); }
    if (item.shape === "line") { const s = el("span", "gt-ln"); s.style.borderTopColor = item.colour; row.appendChild(s); }
    if (item.shape === "circle") { const s = el("span", "gt-dot"); s.style.background = item.colour; row.appendChild(s); }
    if (item.shape === "hollow") { const s = el("span", "gt-dot"); s.style.border = "2px solid " + item.colour; s.style.background = "#fff"; row.appendChild(s); }
    row.appendChild(el("span", null, item.label));
    panel.appendChild(row);
  });
});
const sources = el("details");
sources.appendChild(el("summary", null, T.sources_button));
const list = el("ul");
C.sources.forEach((line) => list.appendChild(el("li", null, line)));
sources.appendChild(list);
sources.appendChild(el("div", "gt-note", C.madeWith));
panel.appendChild(sources);

// Popups: built from the feature's properties, inserted as text
function table(rows) {
  const t = el("table");
  rows.forEach(([key, value]) => {
    if (value === undefined || value === null || value === "") return;
    const tr = el("tr"); tr.appendChild(el("th", null, key)); tr.appendChild(el("td", null, value));
    t.appendChild(tr);
  });
  return t;
}
const popups = {
  territories(p) {
    const box = el("div", "gt-popup");
    box.appendChild(el("div", "gt-h", p.name || p.territory_id));
    if (p.people) box.appendChild(el("div", "gt-sub", p.people));
    box.appendChild(el("div", "gt-lead", missing(p.titled_ha)
      ? fill(T.tenure_unknown_sentence, {claimed: fmt(p.claimed_ha, 0)})
      : fill(T.titled_sentence, {titled: fmt(p.titled_ha, 0), claimed: fmt(p.claimed_ha, 0), pct: pct(p.titled_pct)})));
    if (!missing(p.risk_score) || p.risk_class) {
      box.appendChild(el("div", null, fill(T.risk_line, {label: label("risk_class", p.risk_class)})
        + (missing(p.risk_score) ? "" : fill(T.risk_score, {score: fmt(p.risk_score, 0)}))));
    }
    box.appendChild(table([
      [T.secured, missing(p.secured_ha) ? null : ha(p.secured_ha) + " (" + pct(p.secured_pct) + ")"],
      [T.untitled, missing(p.untitled_ha) ? null : ha(p.untitled_ha)],
      [T.in_concessions, missing(p.concession_ha) ? null : ha(p.concession_ha) + " (" + pct(p.concession_pct) + ")"],
      [T.incidents, missing(p.incidents_inside) ? null : fill(T.incidents_value, {inside: fmt(p.incidents_inside, 0), nearby: fmt(p.incidents_nearby, 0)})],
      [T.forest_loss, missing(p.forest_loss_ha) ? null : ha(p.forest_loss_ha)],
      [T.drivers, p.drivers],
      [T.id, p.territory_id],
    ]));
    return box;
  },
  hexagons(p) {
    const box = el("div", "gt-popup");
    box.appendChild(table([[T.hex_risk, fmt(p.risk, 2)], [T.hex_violence, fmt(p.violence, 2)],
      [T.hex_concessions, fmt(p.concessions, 2)], [T.hex_tenure, fmt(p.tenure, 2)]]));
    const known = Number(p.tenure_known);
    if (p.tenure_known != null && known < 1) {
      box.appendChild(el("div", "gt-note", known > 0 ? T.hex_tenure_partly : T.hex_tenure_unknown));
    }
    return box;
  },
  parcels(p) {
    const box = el("div", "gt-popup");
    box.appendChild(el("div", "gt-h", T.parcel));
    box.appendChild(table([[T.id, p.parcel_id], [T.tenure, label("tenure", p.tenure)]]));
    return box;
  },
  concessions(p) {
    const box = el("div", "gt-popup");
    box.appendChild(el("div", "gt-h", label("concession_kind", p.kind)));
    box.appendChild(table([[T.id, p.concession_id], [T.status, label("status", p.status)], [T.holder, p.holder]]));
    return box;
  },
  infrastructure(p) {
    const box = el("div", "gt-popup");
    box.appendChild(el("div", "gt-h", p.name || label("infrastructure_kind", p.kind)));
    box.appendChild(table([[T.kind, label("infrastructure_kind", p.kind)]]));
    return box;
  },
  incidents(p) {
    const box = el("div", "gt-popup");
    box.appendChild(el("div", "gt-h", label("incident_kind", p.kind)));
    const where = missing(p.uncertainty_km) ? label("precision", p.precision)
      : fill(T.generalised, {km: fmt(p.uncertainty_km, 1)});
    box.appendChild(table([[T.date, p.date], [T.severity, missing(p.severity) ? null : fmt(p.severity, 0) + "/5"],
      [T.source, p.source], [T.precision, where]]));
    box.appendChild(p.description ? el("div", "gt-desc", p.description) : el("div", "gt-note", T.withheld));
    return box;
  },
};
// A region's figure as the web map shows it: "<3" (a count the gate suppressed) as "fewer than 3".
function figure(key, v) {
  const below = /^<(\d+)$/.exec(String(v === undefined || v === null ? "" : v));
  if (below) return fill(T.fewer_than, {n: below[1]});
  return /_ha$/.test(key) ? ha(v) : fmt(v, Number(v) % 1 ? 1 : 0);
}
popups.regions = function (p) {
  const box = el("div", "gt-popup");
  box.appendChild(el("div", "gt-h", p.region || p.region_id));
  box.appendChild(table((C.regionFigures || []).map(([key, name]) => [name, missing(p[key])
    && !/^</.test(String(p[key] || "")) ? null : figure(key, p[key])])));
  return box;
};
popups.communities = function (p) {
  const box = el("div", "gt-popup");
  box.appendChild(el("div", "gt-h", p.name));
  if (p.people) box.appendChild(el("div", "gt-sub", p.people));
  box.appendChild(table([[T.population, missing(p.population) ? null : fmt(p.population, 0)],
    [T.families, missing(p.families) ? null : fmt(p.families, 0)],
    [C.communityNearby, missing(p.incidents_nearby) ? null : fmt(p.incidents_nearby, 0)]]));
  if (Number(p.exact) === 0) box.appendChild(el("div", "gt-note", C.communityApprox));
  return box;
};
// Which layer answers a click, first match wins: points, lines, outlines, then areas.
const ORDER = [["incidents-circle", 0], ["communities-circle", 2], ["infrastructure-line", 4],
  ["concessions-line", 4], ["parcels-line", 4], ["territories-risk", 0], ["territories-titled", 0],
  ["hexagons-fill", 0], ["regions-fill", 0]];
function hit(point) {
  for (const [id, pad] of ORDER) {
    if (!map.getLayer(id) || map.getLayoutProperty(id, "visibility") === "none") continue;
    const box = pad ? [[point.x - pad, point.y - pad], [point.x + pad, point.y + pad]] : point;
    const found = map.queryRenderedFeatures(box, {layers: [id]});
    if (found.length) return found[0];
  }
  return null;
}
map.on("click", (event) => {
  const feature = hit(event.point);
  if (!feature) return;
  const node = popups[feature.source](feature.properties);
  new maplibregl.Popup({maxWidth: "320px"}).setLngLat(event.lngLat).setDOMContent(node).addTo(map);
});
map.on("mousemove", (event) => {
  map.getCanvas().style.cursor = hit(event.point) ? "pointer" : "";
});
})();
