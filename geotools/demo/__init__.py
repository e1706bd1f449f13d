"""The bundled demo: invented data (:mod:`geotools.demo.data`) and the demo run."""
