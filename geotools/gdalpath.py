"""Open exactly the file named: a GDAL-safe name for any input path.

GDAL and the libraries in front of it read meaning into file names. pyogrio parses every path
as a URL (:func:`pyogrio.util.vsi_path`): ``a;b.geojson`` opens ``a`` (``;`` starts URL
parameters), ``x!y.geojson`` opens ``y.geojson`` (``!`` separates an archive from a member),
``zip:a.gpkg`` opens a zip archive. GDAL takes a leading ``GPKG:``, ``CSV:``, ``PG:`` and the
like as a driver prefix or a connection string, and ``/vsi...`` as a virtual file system
(``/vsicurl/`` fetches from the network); rasterio takes ``file:b.tif`` for ``b.tif``. Any of
these reads another file than the one named, or none.

:func:`gdal_path` gives a name under which GDAL opens exactly the file named: the absolute path
when the libraries take it as it is (no driver prefix can lead an absolute path), otherwise a
symbolic link with a plain name (``input.shp``, sidecars beside it) in a private temporary
folder, pointing at the file itself.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pyogrio.util import vsi_path

from geotools.errors import SourceError
from geotools.text import escape_terminal

#: A suffix kept on the alias (``.geojson``); any other is dropped.
_PLAIN_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,12}")
#: What follows the stem in a sidecar's name (``.dbf``, ``.shp.xml``).
_SIDECAR_SUFFIX = re.compile(r"(\.[A-Za-z0-9]{1,12})+")
#: Characters GDAL or a URL parser may read meaning into even in an absolute path.
_SPECIAL = re.compile(r"[;!?#*\[\]\\]")


def gdal_reads_as_given(text: str) -> bool:
    """True when GDAL, pyogrio and rasterio open the absolute path ``text`` as the file it names.

    Parameters
    ----------
    text : str
        An absolute local path.

    Returns
    -------
    bool
        False for a relative path, a ``/vsi`` path, one that pyogrio rewrites (``;``, ``!``,
        a URL scheme) other than by reading a ``.zip`` as an archive, or one holding another
        character GDAL may interpret.
    """
    if not text.startswith("/") or text.startswith("/vsi") or _SPECIAL.search(text):
        return False
    return vsi_path(text) in (text, f"/vsizip/{text}")


@contextlib.contextmanager
def gdal_path(path: str | os.PathLike[str], zipped: bool = False) -> Iterator[str]:
    """Yield a name under which GDAL opens exactly ``path``, and no other file.

    Parameters
    ----------
    path : str or path-like
        An existing local file, named as the user gave it.
    zipped : bool, default False
        The file is a zip archive to read through GDAL's ``/vsizip/`` (the prefix is added).

    Yields
    ------
    str
        The absolute path, or a link to the file with a plain name (its sidecars, the files
        of the same stem, linked beside it) in a temporary folder removed afterwards.

    Raises
    ------
    SourceError
        ``path`` is not an existing file, or needs a link and none can be made.
    """
    file = Path(os.path.abspath(os.fspath(path)))
    if not file.is_file():
        raise SourceError(f"{escape_terminal(path)}: file not found")
    text = str(file)
    if gdal_reads_as_given(text):
        yield f"/vsizip/{text}" if zipped else text
        return
    suffix = file.suffix if _PLAIN_SUFFIX.fullmatch(file.suffix) else ""
    with tempfile.TemporaryDirectory(prefix="geotools-input-") as folder:
        alias = Path(folder) / f"input{suffix}"
        try:
            os.symlink(file, alias)
            stem = file.name[: len(file.name) - len(file.suffix)]
            for sibling in file.parent.iterdir():
                rest = sibling.name[len(stem) :]
                if (
                    sibling != file
                    and sibling.name.startswith(stem)
                    and _SIDECAR_SUFFIX.fullmatch(rest)
                ):
                    os.symlink(sibling, Path(folder) / f"input{rest}")
        except OSError as exc:
            raise SourceError(
                f"{escape_terminal(path)}: GDAL would read another file under this name and no "
                f"link with a plain name can be made ({exc.strerror}); rename the file to "
                "letters, digits, '-', '_' and '.' only"
            ) from exc
        yield f"/vsizip/{alias}" if zipped else str(alias)


@contextlib.contextmanager
def gdal_write_path(path: str | os.PathLike[str]) -> Iterator[str]:
    """Yield a name under which GDAL writes exactly ``path`` (and its sidecars beside it).

    Parameters
    ----------
    path : str or path-like
        The file to create (a staging name, usually: see :func:`geotools.outputs.atomic_path`).
        A file already there is moved under the plain name first, so that GDAL can append.

    Yields
    ------
    str
        The absolute path when GDAL takes it as it is; otherwise a plain name in a private
        temporary folder, whose files (``output.shp``, ``output.dbf``...) are moved to
        ``path``'s folder under ``path``'s stem when the block ends without error (and
        dropped when it raises).
    """
    file = Path(os.path.abspath(os.fspath(path)))
    text = str(file)
    if gdal_reads_as_given(text) and vsi_path(text) == text:
        yield text
        return
    suffix = file.suffix if _PLAIN_SUFFIX.fullmatch(file.suffix) else ""
    stem = file.name[: len(file.name) - len(suffix)]
    with tempfile.TemporaryDirectory(prefix="geotools-output-") as folder:
        alias = Path(folder) / f"output{suffix}"
        if file.exists():
            shutil.move(file, alias)
        yield str(alias)
        for entry in sorted(Path(folder).iterdir()):
            shutil.move(entry, file.parent / f"{stem}{entry.name[len('output') :]}")
