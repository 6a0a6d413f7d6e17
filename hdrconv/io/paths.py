"""The output path: what is checked before any work, and the hidden temporary names written beside it.

Nothing the user had is lost: an existing file is replaced only with ``--force``, and results are
written to hidden temporary files in the output's folder and renamed over it only at the end. Those
names must fit the folder's NAME_MAX (255 bytes on ext4, xfs, btrfs, tmpfs) for every legal output
name, so a long output name is shortened in them.

Standard library only: the command line checks its output here before torch is imported.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from hdrconv.errors import OutputError, UsageError

STDOUT = "-"

CONTAINERS = {".mkv": "mkv", ".mp4": "mp4"}
"""Output suffixes and their containers."""


def refuse_existing(output: str, force: bool) -> None:
    """An existing ``output`` is replaced only with ``force``; a folder never."""
    if os.path.isdir(output):
        raise OutputError(f"{output}: is a directory")
    if os.path.lexists(output) and not force:
        raise OutputError(f"{output}: already exists (use --force to overwrite)")


def check_writable_folder(output: str) -> None:
    """The folder of ``output`` exists and takes new files."""
    parent = Path(output).parent
    if not parent.is_dir():
        raise OutputError(f"{output}: directory {parent} does not exist")
    try:  # the only reliable test (root, read-only mounts, ACLs): create a file there
        tempfile.TemporaryFile(dir=parent, prefix=".hdrconv-").close()
    except OSError as e:
        raise OutputError(f"{output}: cannot create files in {parent} ({e.strerror})") from None


def output_container(output: str) -> str:
    """The container the output's name asks for (``-``: Matroska); a usage error for any other name,
    which the command line alone decides."""
    if output == STDOUT:
        return "mkv"
    container = CONTAINERS.get(Path(output).suffix.lower())
    if container is None:
        raise UsageError(f"{output}: output must end in .mkv or .mp4")
    return container


def check_output(input_path: str, output: str, force: bool) -> str:
    """Validate the output path before any work; return the container (``mkv``/``mp4``).

    ``-`` is standard output, always Matroska: MP4 needs a seekable output (its index is written last).
    """
    container = output_container(output)
    if output == STDOUT:
        return container
    out = Path(output)
    if input_path != "-" and os.path.exists(input_path) and out.exists() and out.resolve() == Path(input_path).resolve():
        raise UsageError(f"{output}: output is the input file")
    refuse_existing(output, force)
    check_writable_folder(output)
    return container


def temp_name(output: Path, tag: str) -> Path:
    """The hidden temporary file ``.NAME.hdrconv-PID.TAG`` beside ``output``, with NAME shortened (and
    a hash of the whole name added, so that two long names never share a temporary file) where the
    result would not fit the folder's NAME_MAX."""
    folder = output.parent
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):  # a folder that is not there yet fails later, with its own message
        limit = 255
    name = output.name

    def fits(n: str) -> bool:
        return len(os.fsencode(f".{n}.hdrconv-{os.getpid()}.{tag}")) <= limit

    if not fits(name):
        digest = "~" + hashlib.sha1(os.fsencode(name)).hexdigest()[:12]
        while name and not fits(name + digest):
            name = name[:-1]
        name += digest
    return folder / f".{name}.hdrconv-{os.getpid()}.{tag}"


def temp_paths(output: str) -> tuple[Path, Path]:
    """The two temporary files of a conversion to ``output``: the encoded video alone, and the final
    file before its rename (standard output has no folder: the video goes to the temporary folder)."""
    out = Path(tempfile.gettempdir(), "stdout.mkv") if output == STDOUT else Path(output)
    return temp_name(out, "video.mkv"), temp_name(out, "tmp" + out.suffix)
