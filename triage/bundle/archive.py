"""Unpack CI artifacts safely: tar, gzip and zip bundles, refusing what could escape or explode.

CI keeps a failed run's diagnostics as `must-gather-<svc>-<ts>.tar.gz`, and logs may be gzip-compressed
on their own (`.log.gz`). Everything is decided by magic bytes, never by the name alone. Nothing is ever
written outside the caller's private work directory: member names with `..` or an absolute path, links
leaving the archive, device and fifo members are refused one by one with a note; archives that are
unreadable, truncated, too large or that decompress absurdly well (bombs) are refused as a whole.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Protocol

from triage.errors import BundleError

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30
CHUNK = 1 * MIB
MAX_NESTING = 2  # an artifact zip holding the must-gather .tar.gz is the deepest real layout
MAX_NOTES = 20
_KEPT = "kept what could be read"
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)
_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip", ".gz")
# Exceptions the stdlib readers raise on damaged input: gzip.BadGzipFile is an OSError, a cut stream
# an EOFError, a damaged deflate stream a zlib.error.
_DAMAGED = (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, OSError, ValueError)


@dataclass(frozen=True)
class Limits:
    """How much an archive may unpack to.

    Attributes:
        max_total_bytes: bytes written for the whole input (decompressed).
        max_members: archive entries (files, directories, links) over all archives.
        max_member_bytes: bytes one file may decompress to.
        max_ratio: decompressed/compressed ratio above which a stream is a bomb...
        ratio_grace_bytes: ...once it has produced more than this many bytes (small files of one
            repeated line legitimately compress very well).
    """

    max_total_bytes: int = 8 * GIB
    max_members: int = 100_000
    max_member_bytes: int = 4 * GIB
    max_ratio: float = 200.0
    ratio_grace_bytes: int = 8 * MIB

    def with_max_bytes(self, max_bytes: int) -> Limits:
        """These limits with the total (and, when larger, the per-file limit) set to max_bytes.

        Args:
            max_bytes: the value of a `--max-bytes` option, in bytes (see parse_size).

        Returns:
            The new limits.
        """
        if max_bytes <= 0:
            raise ValueError("--max-bytes must be positive")
        member = min(self.max_member_bytes, max_bytes)
        return replace(self, max_total_bytes=max_bytes, max_member_bytes=member)


def parse_size(text: str) -> int:
    """Read a byte count such as `8G`, `500M`, `1.5GiB` or `1048576` (binary multiples).

    Args:
        text: the option's value.

    Returns:
        The number of bytes.

    Raises:
        ValueError: the text is not a size.
    """
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f"not a size: {text!r} (examples: 500M, 8G, 1048576)")
    number, unit = float(match[1]), match[2].upper()
    return int(number * {"": 1, "K": KIB, "M": MIB, "G": GIB, "T": 1 << 40}[unit])


def format_size(n: int) -> str:
    """`8589934592` -> `8 GiB`; whole units when exact, one decimal otherwise."""
    for unit, size in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


@dataclass(frozen=True)
class Unpacked:
    """What open_bundle produced.

    Attributes:
        path: what to analyse: the given path when nothing needed unpacking, else a file or directory
            inside the work directory.
        notes: what was refused, decompressed or odd, one sentence each, in archive order.
        origins: for each decompressed file, its name relative to `path` (or its bare name when `path`
            is a file) mapped to the name it had (`x.log` -> `x.log.gz`).
    """

    path: Path
    notes: tuple[str, ...] = ()
    origins: Mapping[str, str] = field(default_factory=dict)

    def origin(self, name: str) -> str | None:
        """The original name of a decompressed file, None when the file was not renamed."""
        return self.origins.get(name)


class _Reader(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _OverLimits(BundleError):
    """A total limit is reached: nothing more may be written, whichever archive is being read."""


class _MemberRefused(Exception):
    """One member is refused; the rest of the archive goes on."""


class _Budget:
    """Shared counters over everything one open_bundle call writes."""

    def __init__(self, limits: Limits, label: str) -> None:
        self.limits = limits
        self.label = label
        self.total = 0
        self.members = 0
        self.notes: list[str] = []
        self.refused = 0

    def member(self) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise _OverLimits(f"{self.label}: more than {self.limits.max_members:,} archive members; refused")

    def add(self, n: int) -> None:
        self.total += n
        if self.total > self.limits.max_total_bytes:
            raise _OverLimits(
                f"{self.label}: unpacks to more than {format_size(self.limits.max_total_bytes)}; "
                "refused (raise the limit with --max-bytes)"
            )

    def note(self, text: str) -> None:
        self.notes.append(text)

    def refuse(self, name: str, reason: str) -> None:
        self.refused += 1
        self.notes.append(f"{name}: {reason}; skipped")

    def bomb_check(self, produced: int, consumed: int) -> bool:
        """Whether `produced` bytes out of `consumed` compressed ones look like a decompression bomb."""
        lim = self.limits
        return produced > lim.ratio_grace_bytes and produced > lim.max_ratio * max(consumed, 1)


class _Counting:
    """A read-only stream that counts the bytes read through it (the compressed side of a ratio)."""

    def __init__(self, inner: IO[bytes]) -> None:
        self.inner = inner
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size)
        self.count += len(data)
        return data

    def readable(self) -> bool:
        return True


class _Gunzip:
    """Decompress a gzip stream (several members allowed) in bounded steps.

    Unlike gzip.GzipFile, a stream cut off mid-member still yields everything before the cut: strict
    readers then raise EOFError (a truncated archive), tolerant ones stop and remember the damage.
    """

    def __init__(self, raw: _Counting, strict: bool) -> None:
        self.raw = raw
        self.strict = strict
        self.damage: str | None = None
        self._inflate = zlib.decompressobj(zlib.MAX_WBITS | 16)
        self._pending = b""
        self._done = False

    def read(self, size: int = -1) -> bytes:
        want = size if size > 0 else CHUNK
        out = bytearray()
        while len(out) < want and not self._done:
            try:
                out += self._step(want - len(out))
            except zlib.error as exc:
                self._stop(f"damaged compressed data ({exc})")
        return bytes(out)

    def _step(self, room: int) -> bytes:
        if not self._pending:
            self._pending = self._inflate.unconsumed_tail or self.raw.read(64 * KIB)
            if not self._pending:
                if not self._inflate.eof:
                    self._stop("compressed stream ends early")
                self._done = True
                return b""
        data = self._inflate.decompress(self._pending, room)
        self._pending = b""
        if self._inflate.eof:
            rest = self._inflate.unused_data
            if rest[:2] == b"\x1f\x8b":  # another member follows
                self._inflate = zlib.decompressobj(zlib.MAX_WBITS | 16)
                self._pending = rest
            elif rest or self.raw.read(1):
                self._done = True  # trailing padding after the last member
        return data

    def _stop(self, why: str) -> None:
        self._done = True
        if self.strict:
            raise EOFError(why)
        self.damage = why


class _Guarded:
    """A decompressed stream that refuses the whole archive when it grows like a bomb or past the total."""

    def __init__(self, inner: _Reader, raw: _Counting, budget: _Budget) -> None:
        self.inner = inner
        self.raw = raw
        self.budget = budget
        self.produced = 0

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size)
        self.produced += len(data)
        if self.budget.bomb_check(self.produced, self.raw.count):
            raise BundleError(
                f"{self.budget.label}: decompresses more than {self.budget.limits.max_ratio:.0f} times its "
                "size (a decompression bomb?); refused"
            )
        # The tar stream itself may be read (to skip refused members) beyond what is written.
        if self.produced > self.budget.limits.max_total_bytes + 64 * MIB:
            self.budget.add(self.budget.limits.max_total_bytes + 1)
        return data


def sniff(path: Path) -> str | None:
    """What kind of container a file is, from its magic bytes.

    Args:
        path: a regular file.

    Returns:
        "zip", "tar", "tar.gz", "gzip" (a compressed single file), or None for anything else.
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(512)
    except OSError:
        return None
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as inner:
                block = inner.read(512)
        except _DAMAGED:
            return "gzip"  # damaged: reported when it is decompressed
        return "tar.gz" if _is_tar_block(block) else "gzip"
    if _is_tar_block(head) or (path.name.lower().endswith(".tar") and _is_old_tar(path)):
        return "tar"
    return None


def _is_tar_block(block: bytes) -> bool:
    return len(block) >= 263 and block[257:262] == b"ustar"


def _is_old_tar(path: Path) -> bool:
    # Pre-POSIX tars carry no magic; only trust the header checksum when the name says tar.
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


def _stem(name: str) -> str:
    lower = name.lower()
    for suffix in _ARCHIVE_SUFFIXES:
        if lower.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _fresh(path: Path) -> Path:
    """path, or path-2, path-3... whichever does not exist yet."""
    candidate, n = path, 1
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate


def safe_parts(name: str) -> tuple[str, ...]:
    """The path components of an archive member name, refusing any that could leave the root.

    Args:
        name: the name as stored in the archive (`/` or `\\` separated).

    Returns:
        The components without `.` and empty ones; empty for the root itself.

    Raises:
        _MemberRefused: absolute name, drive letter, `..` component or NUL byte.
    """
    if "\x00" in name:
        raise _MemberRefused("name holds a NUL byte")
    unified = name.replace("\\", "/")
    if unified.startswith("/") or re.match(r"^[A-Za-z]:", unified):
        raise _MemberRefused("absolute path")
    parts = tuple(p for p in unified.split("/") if p not in ("", "."))
    if ".." in parts:
        raise _MemberRefused("path leaves the archive (`..`)")
    return parts


def _target(root: Path, parts: tuple[str, ...]) -> Path:
    """Where a member goes: parent directories created, nothing on the way a link or a file."""
    current = root
    try:
        for part in parts[:-1]:
            current = current / part
            if current.is_symlink() or (current.exists() and not current.is_dir()):
                raise _MemberRefused(f"{'/'.join(parts)} clashes with another member")
            current.mkdir(exist_ok=True)
        path = current / parts[-1]
        if path.is_symlink() or path.is_dir():
            raise _MemberRefused("clashes with another member")
    except OSError as exc:  # a name too long for the file system, say; the rest may still be fine
        raise _MemberRefused(f"cannot be written ({exc.strerror})") from None
    return path


def _write(src: _Reader, dest: Path, budget: _Budget, ratio_of: _Counting | None = None) -> int:
    """Copy a stream into a new file within the limits; a refused copy leaves no file behind."""
    written = 0
    try:
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    except OSError as exc:  # a name too long for the file system, say; the rest may still be fine
        raise _MemberRefused(f"cannot be written ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := src.read(CHUNK):
                written += len(chunk)
                if written > budget.limits.max_member_bytes:
                    raise _MemberRefused(
                        f"larger than the {format_size(budget.limits.max_member_bytes)} per-file limit"
                    )
                if ratio_of is not None and budget.bomb_check(written, ratio_of.count):
                    raise _MemberRefused(
                        f"decompresses more than {budget.limits.max_ratio:.0f} times its size "
                        "(a decompression bomb?)"
                    )
                budget.add(len(chunk))
                out.write(chunk)
    except BaseException:
        dest.unlink(missing_ok=True)
        budget.total -= written
        raise
    return written


def _tar_members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    while (member := tar.next()) is not None:
        yield member


def _extract_tar(src: Path, dest: Path, compressed: bool, budget: _Budget) -> None:
    with src.open("rb") as handle:
        raw = _Counting(handle)
        stream: _Reader = _Gunzip(raw, strict=True) if compressed else raw
        guarded = _Guarded(stream, raw, budget)
        links: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
        written: set[tuple[str, ...]] = set()
        try:
            # Stream mode reads each member once, in order, without seeking back over huge data.
            with tarfile.open(fileobj=guarded, mode="r|") as tar:  # type: ignore[call-overload]
                for member in _tar_members(tar):
                    budget.member()
                    try:
                        _tar_member(tar, member, dest, budget, links, written)
                    except _MemberRefused as exc:
                        budget.refuse(member.name, str(exc))
        except BundleError:
            raise
        except _DAMAGED as exc:
            why = _why(exc)
            raise BundleError(f"{budget.label}: archive is truncated or damaged ({why}); refused") from None
    _materialize_links(links, dest, written, budget)


def _why(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]


def _tar_member(
    tar: tarfile.TarFile,
    member: tarfile.TarInfo,
    dest: Path,
    budget: _Budget,
    links: list[tuple[str, tuple[str, ...], tuple[str, ...]]],
    written: set[tuple[str, ...]],
) -> None:
    parts = safe_parts(member.name)
    if member.isdir():
        if parts:
            _target(dest, (*parts, "x")).parent.mkdir(exist_ok=True)
        return
    if not parts:
        raise _MemberRefused("member without a name")
    if member.issym() or member.islnk():
        # Symbolic targets are relative to the link's directory, hard ones to the archive root.
        base = parts[:-1] if member.issym() else ()
        links.append((member.name, parts, _link_parts(member.linkname, base)))
        return
    if member.ischr() or member.isblk() or member.isfifo():
        raise _MemberRefused("device or fifo member")
    if not member.isreg():
        raise _MemberRefused("unsupported member type")
    if member.size > budget.limits.max_member_bytes:
        raise _MemberRefused(f"larger than the {format_size(budget.limits.max_member_bytes)} per-file limit")
    source = tar.extractfile(member)
    if source is None:
        raise _MemberRefused("unreadable member")
    _write(source, _target(dest, parts), budget)
    written.add(parts)


def _link_parts(target: str, base: tuple[str, ...]) -> tuple[str, ...]:
    unified = target.replace("\\", "/")
    if not unified or unified.startswith("/") or re.match(r"^[A-Za-z]:", unified) or "\x00" in unified:
        raise _MemberRefused(f"link to {target!r} points outside the archive")
    parts = list(base)
    for part in unified.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise _MemberRefused(f"link to {target!r} points outside the archive")
            parts.pop()
        else:
            parts.append(part)
    return tuple(parts)


def _materialize_links(
    links: list[tuple[str, tuple[str, ...], tuple[str, ...]]],
    dest: Path,
    written: set[tuple[str, ...]],
    budget: _Budget,
) -> None:
    """Links inside the archive become copies of the files they name; no link is ever created."""
    for name, parts, target in links:
        try:
            if target not in written:
                raise _MemberRefused("link to something that is not a file of the archive")
            with (dest.joinpath(*target)).open("rb") as source:
                _write(source, _target(dest, parts), budget)
            written.add(parts)
        except _MemberRefused as exc:
            budget.refuse(name, str(exc))


def _extract_zip(src: Path, dest: Path, budget: _Budget) -> None:
    try:
        archive = zipfile.ZipFile(src)
    except _DAMAGED as exc:
        raise BundleError(f"{budget.label}: not a readable zip archive ({_why(exc)}); refused") from None
    links: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
    written: set[tuple[str, ...]] = set()
    with archive:
        for info in archive.infolist():
            budget.member()
            try:
                _zip_member(archive, info, dest, budget, links, written)
            except _MemberRefused as exc:
                budget.refuse(info.filename, str(exc))
            except BundleError:
                raise
            except (*_DAMAGED, NotImplementedError, RuntimeError) as exc:
                budget.refuse(info.filename, f"unreadable ({_why(exc)})")
    _materialize_links(links, dest, written, budget)


def _zip_member(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    dest: Path,
    budget: _Budget,
    links: list[tuple[str, tuple[str, ...], tuple[str, ...]]],
    written: set[tuple[str, ...]],
) -> None:
    parts = safe_parts(info.filename)
    mode = info.external_attr >> 16
    if info.is_dir() or stat.S_ISDIR(mode):
        if parts:
            _target(dest, (*parts, "x")).parent.mkdir(exist_ok=True)
        return
    if not parts:
        raise _MemberRefused("member without a name")
    if stat.S_ISLNK(mode):
        linkname = archive.read(info)[:4096].decode("utf-8", errors="replace")
        links.append((info.filename, parts, _link_parts(linkname, parts[:-1])))
        return
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG):
        raise _MemberRefused("device or fifo member")
    if info.flag_bits & 0x1:
        raise _MemberRefused("encrypted member")
    limits = budget.limits
    if info.file_size > limits.max_member_bytes:
        raise _MemberRefused(f"larger than the {format_size(limits.max_member_bytes)} per-file limit")
    if budget.bomb_check(info.file_size, info.compress_size):
        raise _MemberRefused(
            f"decompresses {info.file_size / max(info.compress_size, 1):.0f} times its size "
            "(a decompression bomb?)"
        )
    with archive.open(info) as source:
        counted = _Counting(source)
        _write(counted, _target(dest, parts), budget)
    written.add(parts)


def _gunzip(src: Path, dest: Path, budget: _Budget, name: str) -> None:
    """Decompress one gzip file; a cut-off stream keeps what could be read, with a note."""
    with src.open("rb") as handle:
        raw = _Counting(handle)
        stream = _Gunzip(raw, strict=False)
        _write(stream, dest, budget, ratio_of=raw)
    if stream.damage is not None:
        budget.note(f"{name}: {stream.damage}; {_KEPT}")


def read_gzip(path: Path, limits: Limits = Limits()) -> tuple[bytes, tuple[str, ...]]:
    """Read one gzip-compressed log within the limits.

    Args:
        path: the compressed file.
        limits: the per-file and total limits and the bomb ratio apply.

    Returns:
        The decompressed bytes (what could be read, when the stream is cut off) and notes.

    Raises:
        BundleError: not gzip data, larger than the limits, or a decompression bomb.
    """
    budget = _Budget(limits, path.name)
    cap = min(limits.max_member_bytes, limits.max_total_bytes)
    out = bytearray()
    try:
        with path.open("rb") as handle:
            if handle.read(2) != b"\x1f\x8b":
                raise BundleError(f"{path.name}: not gzip data")
            handle.seek(0)
            raw = _Counting(handle)
            stream = _Gunzip(raw, strict=False)
            while chunk := stream.read(CHUNK):
                out += chunk
                if len(out) > cap:
                    raise BundleError(f"{path.name}: decompresses to more than {format_size(cap)}; refused")
                if budget.bomb_check(len(out), raw.count):
                    ratio = f"{limits.max_ratio:.0f}"
                    raise BundleError(f"{path.name}: decompression bomb (ratio over {ratio}); refused")
    except OSError as exc:
        raise BundleError(f"{path.name}: cannot read ({exc.strerror or _why(exc)})") from None
    notes = () if stream.damage is None else (f"{path.name}: {stream.damage}; {_KEPT}",)
    return bytes(out), notes


def _unpack_into(src: Path, kind: str, dest: Path, budget: _Budget, shown: str) -> None:
    """Unpack one archive file into the new directory dest."""
    dest.mkdir(parents=True)
    if kind == "zip":
        _extract_zip(src, dest, budget)
    else:
        _extract_tar(src, dest, kind == "tar.gz", budget)
    budget.note(f"{shown}: unpacked ({kind})")


def _expand(root: Path, budget: _Budget, depth: int, origins: dict[Path, str], top: Path) -> None:
    """Decompress `.gz` files and open nested archives found below root, in name order.

    Each compressed file is replaced by what it holds; one that cannot be opened is dropped with a
    note rather than left for discovery to list as binary.
    """
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        kind = sniff(path)
        if kind is None:
            continue
        shown = path.relative_to(top).as_posix()
        size = path.stat().st_size
        if kind != "gzip" and depth >= MAX_NESTING:
            budget.note(f"{shown}: archive nested too deep; left unopened")
            continue
        plain = path.name.lower().endswith(".gz")
        target = _fresh(path.with_name(_stem(path.name) if plain or kind != "gzip" else path.name + ".plain"))
        try:
            if kind == "gzip":
                _gunzip(path, target, budget, shown)
            else:
                _unpack_into(path, kind, target, budget, shown)
        except _OverLimits:
            raise
        except (_MemberRefused, BundleError) as exc:
            shutil.rmtree(target, ignore_errors=True) if target.is_dir() else target.unlink(missing_ok=True)
            budget.refuse(shown, str(exc).split(": ", 1)[-1].removesuffix("; refused"))
            continue
        finally:
            path.unlink()
            budget.total -= size
        if kind != "gzip":
            _expand(target, budget, depth + 1, origins, top)
            continue
        if not plain:  # compressed under a plain name: keep the name
            target = target.rename(path)
        origins[target] = shown


def _descend(root: Path) -> Path:
    """Skip wrapper directories (`kubernaut-must-gather/`) so names stay bundle-relative."""
    while True:
        entries = [p for p in root.iterdir() if not p.name.startswith(".")]
        if len(entries) != 1 or not entries[0].is_dir() or entries[0].is_symlink():
            return root
        root = entries[0]


def _needs_unpacking(directory: Path, limit: int) -> bool:
    real = directory.resolve()
    for n, path in enumerate(sorted(directory.rglob("*"))):
        if n >= limit:
            return False
        rel = path.relative_to(directory)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_symlink() and not path.resolve().is_relative_to(real):
            continue
        if path.is_file() and sniff(path) is not None:
            return True
    return False


def _copy_tree(src: Path, dest: Path, budget: _Budget) -> None:
    """Copy what discovery would read (no hidden entries, no links leaving src) within the limits."""
    real = src.resolve()
    dest.mkdir(parents=True)
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_symlink() and not path.resolve().is_relative_to(real):
            budget.note(f"{rel.as_posix()}: link leaving the directory; not read")
            continue
        if path.is_dir():
            (dest / rel).mkdir(parents=True, exist_ok=True)
        elif path.is_file():
            budget.member()
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            try:
                with path.open("rb") as source:
                    _write(source, dest / rel, budget)
            except _MemberRefused as exc:
                budget.refuse(rel.as_posix(), str(exc))
            except OSError as exc:
                budget.refuse(rel.as_posix(), f"unreadable ({exc.strerror})")


def unpack(path: Path, workdir: Path, limits: Limits = Limits()) -> Unpacked:
    """Make an input analysable: unpack an archive, decompress gzip logs, or pass it through.

    Args:
        path: what the user gave: an archive (.tar.gz, .tgz, .tar, .zip, recognised by content), a
            gzip-compressed log, a directory (whose compressed files and archives are unpacked into a
            copy), or anything else (returned unchanged).
        workdir: an existing private directory the caller deletes afterwards; nothing is written
            outside it.
        limits: size, count and ratio limits.

    Returns:
        What to analyse, notes for the report, and the original names of decompressed files.

    Raises:
        BundleError: the archive is unreadable, truncated, a decompression bomb, over the limits, or
            holds no usable file.
    """
    label = path.name or str(path)
    budget = _Budget(limits, label)
    origins: dict[Path, str] = {}
    if path.is_dir():
        if not _needs_unpacking(path, limits.max_members):
            return Unpacked(path)
        root = _fresh(workdir / label)
        _copy_tree(path, root, budget)
        _expand(root, budget, 0, origins, root)
        result = root
    elif path.is_file():
        kind = sniff(path)
        if kind is None:
            return Unpacked(path)
        if kind == "gzip":
            result = _fresh(workdir / _stem(label))
            try:
                _gunzip(path, result, budget, label)
            except _MemberRefused as exc:
                raise BundleError(f"{label}: {exc}; refused") from None
            origins[result] = label
        else:
            root = _fresh(workdir / _stem(label))
            _unpack_into(path, kind, root, budget, label)
            _expand(root, budget, 1, origins, root)
            result = _descend(root)
            if not any(p.is_file() for p in result.rglob("*")):
                why = f" ({budget.notes[0]})" if budget.refused else ""
                raise BundleError(f"{label}: archive holds no usable file{why}")
    else:
        return Unpacked(path)
    base = result if result.is_dir() else result.parent
    named = {p.relative_to(base).as_posix(): name for p, name in origins.items() if p.is_relative_to(base)}
    return Unpacked(result, _cap(budget.notes), dict(sorted(named.items())))


def _cap(notes: list[str]) -> tuple[str, ...]:
    if len(notes) <= MAX_NOTES:
        return tuple(notes)
    return (*notes[:MAX_NOTES], f"{len(notes) - MAX_NOTES} more archive notes left out")


def open_bundle(path: Path, workdir: Path, limits: Limits = Limits()) -> Path:
    """The path to analyse for what the user gave (see unpack, which also returns notes).

    Args:
        path: an archive, a gzip-compressed log, a directory or a plain log file.
        workdir: an existing private directory the caller deletes afterwards.
        limits: size, count and ratio limits.

    Returns:
        path itself when nothing needed unpacking, else the unpacked file or directory in workdir.

    Raises:
        BundleError: see unpack.
    """
    return unpack(path, workdir, limits).path
