"""The bundled demo: invented data (:mod:`geotools.demo.data`) and the demo run
(:mod:`geotools.demo.run`)."""

from geotools.demo.run import DEMO_FILES, find_checkout, run_demo, write_demo_bundle

__all__ = ["DEMO_FILES", "find_checkout", "run_demo", "write_demo_bundle"]
