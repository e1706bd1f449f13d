"""Output folders geotools owns: marker, lock, staging, stale temporaries, write errors.

Every output folder geotools creates holds a marker, MARKER, listing the files it wrote there.
``--overwrite`` replaces a folder's outputs only when every file in it is listed (files of
other people are never deleted: the run is refused instead). New outputs are written into a
staging folder beside the target and swapped in with renames (old aside, new in, old deleted),
so a killed run leaves the old or the new output, complete, and no stale file survives. The
temporary names carry host and process id, so that the next run removes those of killed runs
(or puts a set-aside output back). An exclusive lock beside the target keeps two runs apart.
Single files are written through :func:`atomic_path`; the format writers are in
:mod:`geotools.export`.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import secrets
import shutil
import socket
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

try:  # POSIX; elsewhere the lock falls back to an exclusively created file
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

from geotools._version import __version__
from geotools.errors import (
    ForeignFilesError,
    GeotoolsError,
    OutputError,
    OutputExistsError,
    OutputLockedError,
    first_line,
)
from geotools.text import UNSAFE_CHARACTERS, escape_terminal

log = logging.getLogger(__name__)

#: Marker file geotools writes into each output folder: the files it wrote there.
MARKER = ".geotools.json"
#: Files that are never anybody's data (VCS placeholders, desktop metadata): not "foreign".
IGNORABLE_FILES = frozenset({".gitkeep", ".DS_Store", "Thumbs.db", "desktop.ini"})
LOCK_SUFFIX = ".geotools-lock"
#: This host, as written into staging and lock names (letters, digits and _ only).
HOST_TAG = re.sub(r"[^A-Za-z0-9]", "_", socket.gethostname())[:40] or "host"
_TEMP_NAME = re.compile(
    r"^\.(?P<name>.+?)\.geotools-(?P<kind>stage|old|part)-(?P<host>[A-Za-z0-9_]+)-"
    r"(?P<pid>\d+)-[0-9a-f]+"
)
#: errno values that mean "this place cannot be written" (reported as one-line OutputError).
WRITE_ERRNOS = frozenset(
    getattr(errno, name)
    for name in ("EACCES", "EPERM", "EROFS", "ENOSPC", "EDQUOT", "EFBIG", "EXDEV", "EBUSY")
    if hasattr(errno, name)
)
_WRITE_FIXES = {
    errno.EROFS: "the file system is read-only; choose a writable --out",
    errno.ENOSPC: "the disk is full; free some space or choose another --out",
    errno.EACCES: "permission denied; choose a folder you may write to",
    errno.EPERM: "operation not permitted; choose a folder you may write to",
}
_HELD_LOCKS: dict[str, list[int]] = {}
_ACTIVE_STAGES: set[str] = set()


def output_error(path: str | os.PathLike[str], exc: OSError) -> OutputError:
    """Turn an ``OSError`` met while writing ``path`` into a one-line :class:`OutputError`.

    Parameters
    ----------
    path : str or path-like
        The output being written, named in the message.
    exc : OSError
        The error met; returned as it is when it already is an :class:`OutputError`.

    Returns
    -------
    OutputError
        ``"PATH: cannot write it (ERRNO NAME): FIX"``, with the ``errno`` of ``exc``; the fix
        is specific for a read-only or full disk, missing permission and the like.
    """
    if isinstance(exc, OutputError):
        return exc
    code = exc.errno or 0
    fix = _WRITE_FIXES.get(code) or (
        f"{exc.strerror or first_line(exc)}; check the folder or choose another --out"
    )
    name = errno.errorcode.get(code, "error")
    error = OutputError(f"{path}: cannot write it ({name}): {fix}")
    error.errno = exc.errno
    return error


@contextlib.contextmanager
def _write_errors(path: Path) -> Iterator[None]:
    """Re-raise write failures (read-only or full disk...) as one-line OutputErrors."""
    try:
        yield
    except GeotoolsError:
        raise
    except OSError as exc:
        if exc.errno in WRITE_ERRNOS:
            raise output_error(path, exc) from exc
        raise


def _temp_path(target: Path, kind: str) -> Path:
    """A hidden name beside ``target`` saying what it is, for which host and process."""
    tag = f"{HOST_TAG}-{os.getpid()}-{secrets.token_hex(4)}"
    return target.parent / f".{target.name}.geotools-{kind}-{tag}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def clean_stale_temporaries(target: str | os.PathLike[str]) -> list[Path]:
    """Remove what killed geotools runs left beside ``target`` (staging folders, parts).

    A staging name carries the host and process id of its run. When that process is gone the
    leftover is removed; an output that run had set aside (killed between the two renames of a
    swap) is put back when ``target`` is missing.

    Parameters
    ----------
    target : str or path-like
        An output file or folder.

    Returns
    -------
    list of pathlib.Path
        The leftovers removed or restored.

    Raises
    ------
    OutputError
        A leftover belongs to a process that is still alive (or to another host): it is named,
        and nothing is removed.
    """
    target = Path(target)
    parent = target.parent
    if not parent.is_dir():
        return []
    cleaned = []
    for entry in sorted(parent.iterdir()):
        match = _TEMP_NAME.match(entry.name)
        if match is None or match["name"] != target.name:
            continue
        host, pid = match["host"], int(match["pid"])
        if host == HOST_TAG and pid == os.getpid():
            continue  # this process's own, in progress
        if host != HOST_TAG or _pid_alive(pid):
            raise OutputError(
                f"{entry}: left by geotools run {pid} on {host}, which may still be running; "
                "wait for it, or remove that folder yourself if no geotools is running"
            )
        if match["kind"] == "old" and not target.exists() and not target.is_symlink():
            os.replace(entry, target)
            log.warning("%s: put back the output a killed run had set aside (%s)", target, entry)
        else:
            _remove(entry)
            log.warning("%s: removed %s, left by a killed geotools run", target, entry.name)
        cleaned.append(entry)
    return cleaned


def lock_path(target: str | os.PathLike[str]) -> Path:
    """Return the lock file of an output: ``.NAME.geotools-lock`` beside it.

    Parameters
    ----------
    target : str or path-like
        An output file or folder.

    Returns
    -------
    pathlib.Path
        The lock file's path (it need not exist).
    """
    target = Path(target)
    return target.parent / f".{target.name}{LOCK_SUFFIX}"


def _describe_holder(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip() or "unknown process"
    except OSError:
        return "unknown process"


@contextlib.contextmanager
def output_lock(target: str | os.PathLike[str]) -> Iterator[None]:
    """Hold the exclusive lock of an output for the duration (re-entrant in one process).

    The lock is ``fcntl.flock`` on :func:`lock_path` (released by the kernel if the process
    dies); the file is removed on release.

    Parameters
    ----------
    target : str or path-like
        An output file or folder; its parent folder is created when missing.

    Raises
    ------
    OutputLockedError
        Another process holds the lock (a concurrent run on the same ``--out``).
    OutputError
        The lock file cannot be created (read-only or full disk...).
    """
    target = Path(os.path.abspath(target))
    key = str(target)
    if key in _HELD_LOCKS:
        _HELD_LOCKS[key][1] += 1
        try:
            yield
        finally:
            _HELD_LOCKS[key][1] -= 1
        return
    path = lock_path(target)
    with _write_errors(path):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = _acquire_lock(path, target)
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"pid {os.getpid()} on {HOST_TAG}\n".encode())
        except OSError:
            path.unlink(missing_ok=True)
            os.close(fd)
            raise
    _HELD_LOCKS[key] = [fd, 1]
    try:
        yield
    finally:
        del _HELD_LOCKS[key]
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        os.close(fd)


def _locked_error(path: Path, target: Path) -> OutputLockedError:
    return OutputLockedError(
        f"{target}: another geotools run ({_describe_holder(path)}) is writing it; wait for it "
        "to finish or choose another --out"
    )


def _acquire_lock(path: Path, target: Path) -> int:
    """Open and lock ``path``; return its descriptor (see :func:`output_lock`)."""
    if fcntl is None:  # pragma: no cover - Windows: exclusive creation, stale if holder gone
        for _ in range(2):
            try:
                return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = re.match(r"pid (\d+) on (\S+)", _describe_holder(path))
                if holder and holder[2] == HOST_TAG and not _pid_alive(int(holder[1])):
                    path.unlink(missing_ok=True)
                    continue
                raise _locked_error(path, target) from None
        raise _locked_error(path, target)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise _locked_error(path, target) from None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # the holder removed the file between our open and lock: try again


#: Characters GDAL drops from a file name (it then writes or reads another file): refused in
#: every component of an output path, even in a folder that exists already.
GDAL_DROPPED = re.compile("[\t\n\r]")


def refuse_unsafe_name(target: str | os.PathLike[str]) -> None:
    """Raise :class:`OutputError` when an output path holds a control or invisible character.

    GDAL drops ``\\r``, ``\\n`` and ``\\t`` from file names, so it would write a file other
    than the one geotools renames (a run ended on a missing file and left a staging file
    behind); a terminal would act on others (``\\x1b``) wherever the name is shown. The names
    geotools creates (the file or folder, and missing parent folders) may hold none of
    :data:`geotools.text.UNSAFE_CHARACTERS` (C0 and C1 controls, DEL, bidi and other format
    characters, line separators, undecodable bytes); a folder that exists already only none of
    :data:`GDAL_DROPPED`. Checked before anything is written.

    Parameters
    ----------
    target : str or path-like
        An output file or folder, as given.

    Raises
    ------
    OutputError
        A name holds such a character (the path is named with it escaped).
    """
    path = Path(target)
    for part in (path, *path.parents):
        if not part.name:
            continue
        exists = part != path and (part.exists() or part.is_symlink())
        found = (GDAL_DROPPED if exists else UNSAFE_CHARACTERS).search(part.name)
        if found is not None:
            raise OutputError(
                f"{escape_terminal(path)}: the output name holds the control or invisible "
                f"character {escape_terminal(found.group())}; choose a name of printable "
                "characters only"
            )


def refuse_symlink(target: str | os.PathLike[str]) -> None:
    """Raise :class:`OutputError` when an output path is a symbolic link (or a bad name).

    The name is checked first (:func:`refuse_unsafe_name`): every caller checks an output
    before writing it through this function.

    Replacing a link by renames would replace the link and leave what it points to (an old
    bundle, say) unchanged while reporting success; writing through it would replace a folder
    elsewhere. Neither is what the user asked, so geotools refuses.

    Parameters
    ----------
    target : str or path-like
        An output file or folder.

    Raises
    ------
    OutputError
        ``target`` is a symbolic link (even a dangling one), or its name holds a control or
        invisible character.
    """
    refuse_unsafe_name(target)
    target = Path(target)
    if target.is_symlink():
        raise OutputError(
            f"{target}: is a symbolic link (to {os.readlink(target)}); geotools does not write "
            "through links: give the real path as --out, or remove the link"
        )


def read_marker(folder: str | os.PathLike[str]) -> dict[str, str] | None:
    """Return ``{relative path: group}`` of the files geotools wrote in ``folder``, or None.

    Parameters
    ----------
    folder : str or path-like
        A folder that may hold a :data:`MARKER`.

    Returns
    -------
    dict of str to str or None
        Relative path -> the writer (``stats``, ``publish``...) of each file listed; None when
        the marker is missing, a symbolic link, unreadable or malformed.
    """
    path = Path(folder) / MARKER
    if not path.is_file() or path.is_symlink():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(files, dict):
        return None
    return {str(k): str(v) for k, v in files.items()}


def _is_bookkeeping(name: str) -> bool:
    return name == MARKER or name.endswith(LOCK_SUFFIX) or bool(_TEMP_NAME.match(name))


def find_foreign_files(folder: str | os.PathLike[str], limit: int = 5) -> list[str]:
    """Relative paths of files in ``folder`` that geotools did not write (not in its marker).

    Subfolders with their own marker (a bundle inside a run folder) are judged by it. Symbolic
    links are always foreign; :data:`IGNORABLE_FILES` never are.

    Parameters
    ----------
    folder : str or path-like
        An existing folder.
    limit : int, default 5
        Stop after this many.

    Returns
    -------
    list of str
        Up to ``limit`` foreign paths, in sorted order (empty: geotools owns everything).
    """
    found: list[str] = []

    def walk(directory: Path, listed: set[str], prefix: str, shown: str) -> None:
        for entry in sorted(directory.iterdir()):
            if len(found) >= limit:
                return
            rel, where = f"{prefix}{entry.name}", f"{shown}{entry.name}"
            if entry.name in IGNORABLE_FILES or _is_bookkeeping(entry.name):
                continue
            if entry.is_symlink():
                found.append(where)
            elif entry.is_dir():
                own = read_marker(entry)
                if own is not None:
                    walk(entry, set(own), "", f"{where}/")
                else:
                    walk(entry, listed, f"{rel}/", f"{where}/")
            elif rel not in listed:
                found.append(where)

    walk(Path(folder), set(read_marker(folder) or {}), "", "")
    return found


def check_replaceable(folder: str | os.PathLike[str]) -> None:
    """Raise :class:`ForeignFilesError` unless ``--overwrite`` may replace ``folder``.

    A folder may be replaced when it is missing, empty, or holds only files geotools wrote
    (listed in its :data:`MARKER`).

    Parameters
    ----------
    folder : str or path-like
        The output folder ``--overwrite`` would replace.

    Raises
    ------
    ForeignFilesError
        ``folder`` holds a file geotools did not write (named in the message).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return
    foreign = find_foreign_files(folder, limit=1)
    if foreign:
        raise ForeignFilesError(
            f"{folder}: holds {foreign[0]}, which geotools did not write; --overwrite only "
            f"replaces folders geotools wrote (listed in {MARKER}): choose another --out, or "
            "move that file away yourself"
        )


def _marker_bytes(files: Mapping[str, str]) -> bytes:
    data = {
        "about": "Files geotools wrote in this folder. --overwrite replaces the folder only when "
        "every file in it is listed here; do not edit.",
        "files": dict(sorted(files.items())),
        "geotools": __version__,
    }
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _list_files(folder: Path) -> list[str]:
    """Relative paths of the files under ``folder`` (not in sub-folders with their own marker)."""
    files: list[str] = []
    for root, dirs, names in os.walk(folder):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if not (here / d / MARKER).is_file())
        rel = here.relative_to(folder)
        files.extend(
            (rel / n).as_posix() for n in sorted(names) if not (rel == Path(".") and n == MARKER)
        )
    return sorted(files)


def write_marker(folder: str | os.PathLike[str], files: Mapping[str, str]) -> Path:
    """Write ``folder``'s :data:`MARKER` listing ``files`` (``{relative path: writer}``).

    The writer (``stats``, ``publish``...) of each file is recorded so that a later run of the
    same writer replaces exactly its own files: none of them goes stale. The file is rewritten
    only when its content changes.

    Parameters
    ----------
    folder : str or path-like
        An existing output folder.
    files : mapping of str to str
        Relative path (``/``-separated) -> writer of the file.

    Returns
    -------
    pathlib.Path
        The marker file.
    """
    path = Path(folder) / MARKER
    content = _marker_bytes(files)
    if not (path.is_file() and path.read_bytes() == content):
        path.write_bytes(content)
    return path


def mark_output_folder(
    folder: str | os.PathLike[str], group: str, extra: Sequence[str] = ()
) -> Path:
    """List every file now in ``folder`` (plus ``extra``, about to be written) in its marker.

    For a staging folder whose marker must exist before its checksums are computed (a bundle):
    ``mark_output_folder(stage, "publish", extra=["SHA256SUMS"])``.

    Parameters
    ----------
    folder : str or path-like
        An existing output folder.
    group : str
        The writer recorded for every file (``stats``, ``publish``...).
    extra : sequence of str, default ()
        Relative paths of files not yet written to list as well.

    Returns
    -------
    pathlib.Path
        The marker file.
    """
    return write_marker(folder, {name: group for name in [*_list_files(Path(folder)), *extra]})


def _record_in_marker(target: Path, group: str = "file") -> None:
    """Add a single file to its folder's marker, when the folder is a geotools output folder."""
    listed = read_marker(target.parent)
    if listed is None or listed.get(target.name) is not None:
        return
    listed[target.name] = group
    tmp = _temp_path(target.parent / MARKER, "part")
    try:
        tmp.write_bytes(_marker_bytes(listed))
        os.replace(tmp, target.parent / MARKER)
    finally:
        _remove(tmp)


def _remove_part(tmp: Path, stem: str) -> None:
    """Remove a temporary file and whatever a writer made beside it under its unique name
    ``stem`` (``-journal``, ``-wal``, sidecar files): nothing is left, whatever the failure."""
    _remove(tmp)
    with contextlib.suppress(OSError):
        for entry in tmp.parent.iterdir():
            if entry.name.startswith(stem):
                _remove(entry)


def _in_active_stage(target: Path) -> bool:
    path = os.path.abspath(target)
    return any(path.startswith(stage + os.sep) for stage in _ACTIVE_STAGES)


@contextlib.contextmanager
def atomic_path(target: Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    Outside a staging folder the target is locked (:func:`output_lock`), leftovers of killed
    runs are cleaned (:func:`clean_stale_temporaries`), a symbolic link is refused and the file
    is listed in its folder's marker when the folder is a geotools output folder.

    Parameters
    ----------
    target : pathlib.Path
        Final file name.
    overwrite : bool, default False
        Replace an existing ``target``; otherwise :class:`OutputExistsError`.

    Raises
    ------
    OutputExistsError
        ``target`` exists (and ``overwrite`` is False) or is a folder.
    OutputError
        ``target`` is a symbolic link, locked by another run, or cannot be written.
    """
    target = Path(target)
    staged = _in_active_stage(target)
    refuse_unsafe_name(target.name if staged else target)
    if not staged:
        refuse_symlink(target)
    with contextlib.ExitStack() as stack:
        if not staged:
            stack.enter_context(output_lock(target))
            with _write_errors(target):
                clean_stale_temporaries(target)
        if target.is_dir():
            raise OutputExistsError(f"{target}: is a folder; choose a file name for --out")
        if target.exists() and not overwrite:
            raise OutputExistsError(f"{target}: already exists; pass --overwrite to replace it")
        base = _temp_path(target, "part")
        tmp = base.with_name(base.name + target.suffix)
        try:
            with _write_errors(target):
                target.parent.mkdir(parents=True, exist_ok=True)
                yield tmp
                if not staged:
                    _record_in_marker(target)
                os.replace(tmp, target)
        finally:
            _remove_part(tmp, base.name)


def check_outputs_free(out_dir: Path, names: list[str], *, overwrite: bool = False) -> None:
    """Check, before any work, that a run may write ``names`` into ``out_dir``.

    Parameters
    ----------
    out_dir : pathlib.Path
        The output folder (it need not exist).
    names : list of str
        File or folder names the run writes in ``out_dir``.
    overwrite : bool, default False
        Whether existing outputs may be replaced.

    Raises
    ------
    OutputError
        One of the outputs is a symbolic link.
    OutputExistsError
        One of the outputs exists and ``overwrite`` is False (up to five are named).
    """
    for name in names:
        refuse_symlink(Path(out_dir) / name)
    existing = [name for name in names if (Path(out_dir) / name).exists()]
    if existing and not overwrite:
        raise OutputExistsError(
            f"{out_dir}: {', '.join(existing[:5])} already exist(s); pass --overwrite to replace"
        )


def _link_tree(source: Path, target: Path) -> None:
    """Hard-link (else copy) a file or folder tree, for keeping outputs across a swap."""
    if source.is_dir() and not source.is_symlink():
        shutil.copytree(source, target, symlinks=True, copy_function=_link_or_copy)
    else:
        _link_or_copy(str(source), str(target))


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _has_content(folder: Path) -> bool:
    return any(
        not (e.name in IGNORABLE_FILES or _is_bookkeeping(e.name)) for e in folder.iterdir()
    )


@contextlib.contextmanager
def staged_outputs(
    out_dir: Path,
    names: list[str],
    *,
    overwrite: bool = False,
    group: str = "outputs",
    whole: bool = False,
) -> Iterator[Path]:
    """Yield a staging folder beside ``out_dir``; on success swap it in, else delete it.

    Parameters
    ----------
    out_dir : pathlib.Path
        Final folder (created if needed).
    names : list of str
        Files or folders (relative to ``out_dir``) the step will write; checked up front so that a
        run never starts when it would have to overwrite without ``overwrite``.
    overwrite : bool, default False
        Allow replacing existing outputs; only in a folder geotools owns (see
        :func:`check_replaceable`).
    group : str, default "outputs"
        Name of the writer (``stats``...). Files an earlier run of the same writer listed in the
        marker are replaced as a set: none survives stale. Other geotools outputs in the folder
        (a bundle, a risk surface) are kept.
    whole : bool, default False
        The folder is one output (a bundle): an existing, non-empty folder counts as existing
        output, and nothing of it is kept.

    Raises
    ------
    OutputExistsError
        When an output exists and ``overwrite`` is False (nothing is written).
    ForeignFilesError
        With ``overwrite``, the folder holds files geotools did not write (nothing is touched).
    OutputError
        ``out_dir`` is a symbolic link, locked by another run, or cannot be written.

    Notes
    -----
    A new or geotools-owned folder is replaced by renames: the old one set aside, the new one
    renamed in, the old one deleted; a killed run leaves the old or the new output complete,
    and the next run cleans up (or puts the set-aside folder back). Into an existing folder
    geotools does not own (written there without ``overwrite``, no name clashing) the files are
    moved one by one and no marker is written.
    """
    out = Path(out_dir)
    refuse_symlink(out)
    with output_lock(out), _write_errors(out):
        clean_stale_temporaries(out)
        if out.exists() and not out.is_dir():
            raise OutputExistsError(f"{out}: exists and is not a folder; choose another --out")
        busy = out.is_dir() and _has_content(out)
        if whole:
            if busy and not overwrite:
                raise OutputExistsError(f"{out}: already exists; pass --overwrite to replace it")
        else:
            check_outputs_free(out, names, overwrite=overwrite)
        if busy and overwrite:
            check_replaceable(out)
        owned = not busy or (read_marker(out) is not None and not find_foreign_files(out, 1))
        out.parent.mkdir(parents=True, exist_ok=True)
        stage = _temp_path(out, "stage")
        stage.mkdir()
        if out.is_dir():
            shutil.copymode(out, stage)
        _ACTIVE_STAGES.add(os.path.abspath(stage))
        try:
            try:
                yield stage
            except OutputError as exc:  # name the user's path, not the hidden staging one
                if str(stage) not in str(exc):
                    raise
                named = OutputError(str(exc).replace(str(stage), str(out)))
                named.errno = exc.errno
                raise named from exc
            if not out.exists():
                mark_output_folder(stage, group)
                os.rename(stage, out)
            elif owned:
                _swap_in(stage, out, names, group, whole=whole)
            else:
                _move_in(stage, out, group)
        finally:
            _ACTIVE_STAGES.discard(os.path.abspath(stage))
            _remove(stage)


def _swap_in(stage: Path, out: Path, names: list[str], group: str, *, whole: bool) -> None:
    """Keep other writers' outputs, drop this writer's old ones, then swap ``stage`` in."""
    old_marker = read_marker(out) or {}
    files = {name: group for name in _list_files(stage)}
    if not whole:
        for entry in sorted(out.iterdir()):
            if _is_bookkeeping(entry.name) or entry.name in names:
                continue
            if (stage / entry.name).exists() or old_marker.get(entry.name) == group:
                continue
            _link_tree(entry, stage / entry.name)
            for rel, owner in old_marker.items():
                if rel == entry.name or rel.startswith(f"{entry.name}/"):
                    if owner == group:
                        _remove(stage / rel)  # this writer's own file, not written again
                    else:
                        files[rel] = owner
    write_marker(stage, files)
    aside = _temp_path(out, "old")
    os.rename(out, aside)
    try:
        os.rename(stage, out)
    except OSError:
        os.rename(aside, out)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def _move_in(stage: Path, out: Path, group: str) -> None:
    """Move staged files one by one into a folder holding other people's files.

    Nothing there clashes (checked before); when the folder has a marker the new files are
    added to it first, so that a killed move leaves no unlisted geotools file behind.
    """
    listed = read_marker(out)
    new = _list_files(stage)
    if listed is not None:
        write_marker(out, {**listed, **{name: group for name in new}})
    for name in new:
        final = out / name
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage / name, final)
