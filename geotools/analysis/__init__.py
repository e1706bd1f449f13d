"""Analysis: tenure, overlaps, incidents, infrastructure, forest loss, statistics, risk, surface.

Everything here works on analysis-ready frames (see :mod:`geotools.io`) and returns tables;
nothing here reads files, decides what may be published or draws a map.
"""
