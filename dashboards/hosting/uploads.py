"""What a developer deploys (pasted text, a ``.py``, a ``.zip``, a folder) turned into a release's files.

Bad input is refused here with a ValidationError saying what to fix, before anything is stored:
bytes that are not text (never replaced by ``�``), NUL bytes (PostgreSQL cannot store them), two
files of one name, modules in subfolders (a release is flat), links, encrypted or corrupt entries,
and anything larger than the limits below. Nothing is read past a limit, whatever a header says.
"""

from __future__ import annotations

import io
import stat
import tokenize
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from django.core.exceptions import ValidationError

from dashboards.runtime.loader import PAGE_FILE

MAX_FILES = 50
MAX_FILE_BYTES = 512 * 1024
# The most read of one upload (a .zip is compressed: its files are checked one by one after).
MAX_UPLOAD_BYTES = MAX_FILES * MAX_FILE_BYTES
_SIZES = f"at most {MAX_FILES} files of {MAX_FILE_BYTES // 1024} KiB"
ENTRY_MODULE = "main.py"
_ENTRY_RULE = "a release is main.py, the modules it imports and page.html, side by side."


def is_release_file(name: str) -> bool:
    """A module or the page: the only files a release keeps (a README or data file is left out)."""
    return name.endswith(".py") or name == PAGE_FILE


def release_files_from_text(source: str) -> dict[str, str]:
    """Pasted source becomes ``main.py`` (a byte order mark an editor put first is dropped).

    Line ends as the other releases have them: a browser sends a text box's lines with CRLF, and
    the source edited in the admin came back so in its download, every line changed for a diff.
    """
    source = source.removeprefix("\ufeff").replace("\r\n", "\n")
    if len(source.encode("utf-8", errors="surrogatepass")) > MAX_FILE_BYTES:
        raise ValidationError(f"The source is larger than {MAX_FILE_BYTES // 1024} KiB.")
    if "\x00" in source:
        raise ValidationError("The source contains NUL characters: it is not text.")
    return {"main.py": source}


def release_files_from_upload(name: str, content: bytes) -> dict[str, str]:
    """An uploaded ``.py`` becomes ``main.py``; a ``.zip`` holds main.py, its modules and page.html."""
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationError(f"{name} is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB.")
    if name.lower().endswith(".zip"):
        return _files_from_zip(content)
    if len(content) > MAX_FILE_BYTES:
        raise ValidationError(f"The source is larger than {MAX_FILE_BYTES // 1024} KiB.")
    return {"main.py": decode_text(name, content)}


def release_archive(*, files: dict[str, str], folder: str) -> bytes:
    """A release's files as a .zip of one folder: what ``release_files_from_upload`` reads back."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in sorted(files.items()):
            archive.writestr(f"{folder}/{name}", text.encode("utf-8", errors="surrogatepass"))
    return buffer.getvalue()


def release_files_from_folder(folder: Path) -> dict[str, str]:
    """main.py, its modules and page.html of a folder (its other files and subfolders are not read)."""
    # Hidden names are an editor's or a system's, not the app's: Emacs's lock file .#main.py (a
    # dangling link while main.py is open), macOS's ._main.py.
    paths = sorted(
        path for path in folder.iterdir() if is_release_file(path.name) and not path.name.startswith(".")
    )
    if len(paths) > MAX_FILES:
        raise ValidationError(f"{folder} holds {len(paths)} modules: a release has {_SIZES}.")
    if not any(path.name == ENTRY_MODULE for path in paths):
        raise ValidationError(f"{folder} has no {ENTRY_MODULE}: {_ENTRY_RULE}")
    return {path.name: decode_text(path.name, read_file(path, MAX_FILE_BYTES)) for path in paths}


def read_file(path: Path, limit: int) -> bytes:
    """The bytes of a regular file, never more than ``limit`` (not a device or a pipe that never ends)."""
    if not path.is_file():
        raise ValidationError(f"{path} is not a regular file.")
    with path.open("rb") as file:
        content = file.read(limit + 1)
    if len(content) > limit:
        raise ValidationError(f"{path} is larger than {limit // 1024} KiB.")
    return content


def decode_text(name: str, content: bytes) -> str:
    """A file's text: UTF-8 (a leading BOM dropped), or for a module the encoding its coding line names.

    Refused rather than guessed: a byte that is not text would become ``�`` in the stored release.
    """
    encoding = "utf-8-sig"
    if name.endswith(".py"):
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(content).readline)
        except SyntaxError as error:  # an unknown encoding, or a BOM with another coding line
            if "missing encoding declaration" not in str(error.msg):
                raise ValidationError(f"{name}: its coding line cannot be used ({error.msg}).") from None
    try:
        text = content.decode(encoding)
    except UnicodeDecodeError as error:
        line = content.count(b"\n", 0, error.start) + 1
        raise ValidationError(
            f"{name} is not {encoding.removesuffix('-sig').upper()} text: byte 0x{content[error.start]:02x} "
            f"on line {line} cannot be read. Save the file as UTF-8."
        ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ValidationError(f"{name} contains a NUL byte on line {line}: it is not a text file.")
    return text


def _files_from_zip(content: bytes) -> dict[str, str]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ValidationError("The .zip file cannot be read: is it a .zip archive?") from None
    entries: list[tuple[str, zipfile.ZipInfo]] = []
    for info in archive.infolist():
        name = info.filename.replace("\\", "/")  # some Windows tools write backslashes
        parts = PurePosixPath(name).parts
        if info.is_dir() or not parts or parts[0] == "__MACOSX" or parts[-1].startswith("._"):
            continue  # folders, and the resource forks macOS adds (binary files named ._main.py)
        if not is_release_file(parts[-1]):
            continue
        if name.startswith("/") or ".." in parts or ":" in parts[0]:
            raise ValidationError(f"The .zip holds {info.filename}, a path outside its folder.")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ValidationError(f"{info.filename} in the .zip is a symbolic link: zip the file itself.")
        entries.append((name, info))
    if len(entries) > MAX_FILES:
        raise ValidationError(f"The .zip holds {len(entries)} modules: a release has {_SIZES}.")
    files: dict[str, str] = {}
    where: dict[str, str] = {}
    depth = _common_folder_depth([PurePosixPath(name).parts for name, _ in entries])
    for name, info in entries:
        relative = PurePosixPath(name).parts[depth:]
        if len(relative) > 1:
            raise ValidationError(
                f"{info.filename}: a release has no subfolders (packages); put every module next to main.py."
            )
        base = relative[0]
        if base in files:
            raise ValidationError(f"The .zip holds two {base}: {where[base]} and {info.filename}.")
        files[base] = decode_text(info.filename, _read_entry(archive, info))
        where[base] = info.filename
    if ENTRY_MODULE not in files:  # the wrong folder zipped: said first, not by the others' errors
        raise ValidationError(f"The .zip holds no {ENTRY_MODULE}: {_ENTRY_RULE}")
    return files


def _common_folder_depth(paths: list[tuple[str, ...]]) -> int:
    """How many leading folders every file shares (a zipped folder ``app/...``): they are dropped."""
    if not paths:
        return 0
    depth = 0
    shortest = min(len(parts) for parts in paths)
    while depth < shortest - 1 and len({parts[depth] for parts in paths}) == 1:
        depth += 1
    return depth


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """At most MAX_FILE_BYTES of an entry, whatever its header claims (a zip bomb stops there)."""
    if info.flag_bits & 0x1:
        raise ValidationError(f"{info.filename} in the .zip is encrypted: zip it without a password.")
    try:
        with archive.open(info) as entry:
            data = entry.read(MAX_FILE_BYTES + 1)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, zlib.error, EOFError, OSError,
            ValueError) as error:  # fmt: skip
        raise ValidationError(f"{info.filename} cannot be read from the .zip ({error}).") from None
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError(f"{info.filename} is too large: a release has {_SIZES}.")
    return data
