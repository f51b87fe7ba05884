"""Archives: CI artifacts unpack safely; hostile members are refused; bombs and damage stop cleanly."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import zipfile
import zlib
from pathlib import Path

import pytest

from triage.bundle.archive import Limits, open_bundle, parse_size, read_gzip, sniff, unpack
from triage.bundle.discovery import discover
from triage.errors import BundleError
from triage.parsers.recognise import RECOGNISER

HEALTHY = Path(__file__).resolve().parents[1] / "fixtures" / "bundles" / "02-healthy"
RUN_DIR = "signalprocessing-integration-20260116-091329"
DS_LINE = (
    b"2026-01-16T14:13:17.993Z\tINFO\tdatastorage\tserver/server.go:138\tPostgreSQL connection established"
    b'\t{"max_open_conns": 25, "max_idle_conns": 5}\n'
)
ZEROS_MIB = bytes(1 << 20)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _add(tar: tarfile.TarFile, name: str, data: bytes, **attrs: object) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in attrs.items():
        setattr(info, key, value)
    tar.addfile(info, io.BytesIO(data))


def _link(tar: tarfile.TarFile, name: str, target: str, kind: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    tar.addfile(info)


def _hostile_tar(path: Path) -> None:
    with tarfile.open(path, "w:gz") as tar:
        _add(tar, f"{RUN_DIR}/signalprocessing_datastorage_test.log", DS_LINE)
        _add(tar, "../../etc/x", b"escape\n")
        _add(tar, "/tmp/x", b"absolute\n")
        _link(tar, f"{RUN_DIR}/passwd", "/etc/passwd", tarfile.SYMTYPE)
        _link(tar, f"{RUN_DIR}/up", "../../outside", tarfile.SYMTYPE)
        _link(tar, f"{RUN_DIR}/hard", "../outside", tarfile.LNKTYPE)
        _link(tar, f"{RUN_DIR}/copy.log", "signalprocessing_datastorage_test.log", tarfile.SYMTYPE)
        fifo = tarfile.TarInfo(f"{RUN_DIR}/fifo")
        fifo.type = tarfile.FIFOTYPE
        tar.addfile(fifo)
        dev = tarfile.TarInfo(f"{RUN_DIR}/sda")
        dev.type = tarfile.BLKTYPE
        tar.addfile(dev)


def _gzip_zeros(out: io.BufferedWriter, mib: int) -> None:
    """Stream `mib` MiB of zeros as gzip members without holding them in memory (about 1 KiB each)."""
    member = gzip.compress(ZEROS_MIB, compresslevel=9, mtime=0)
    for _ in range(mib):
        out.write(member)


def _tar_bomb(path: Path, mib: int) -> None:
    """A .tar.gz of one file of `mib` MiB of zeros, written as a stream of gzip members."""
    info = tarfile.TarInfo(f"{RUN_DIR}/signalprocessing_datastorage_test.log")
    info.size = mib << 20
    with path.open("wb") as out:
        out.write(gzip.compress(info.tobuf(format=tarfile.PAX_FORMAT), mtime=0))
        _gzip_zeros(out, mib)
        out.write(gzip.compress(bytes(2 * 512), mtime=0))


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


def _outside_untouched(tmp_path: Path, work: Path) -> None:
    written = [p for p in tmp_path.rglob("*") if not p.is_relative_to(work) and p.name in ("x", "outside")]
    assert written == []
    assert all(not p.is_symlink() for p in work.rglob("*"))


def test_healthy_bundle_tar_gz_extracts_identically(tmp_path: Path, work: Path) -> None:
    """A .tar.gz of a committed bundle unpacks to the same files, wrapper directory skipped."""
    archive = tmp_path / "must-gather-signalprocessing-20260116-091329.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(HEALTHY, arcname="02-healthy")
    result = unpack(archive, work, Limits())
    assert result.path.is_relative_to(work)
    assert _tree(result.path) == _tree(HEALTHY)
    names = [s.name for s in discover(result.path, recogniser=RECOGNISER).sources]
    assert names == [s.name for s in discover(HEALTHY, recogniser=RECOGNISER).sources]


@pytest.mark.parametrize("fmt", ["zip", "tar"])
def test_healthy_bundle_zip_and_plain_tar_extract_identically(tmp_path: Path, work: Path, fmt: str) -> None:
    """Zip and uncompressed tar archives of a bundle unpack to the same files."""
    archive = tmp_path / f"bundle.{fmt}"
    if fmt == "zip":
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(HEALTHY.rglob("*")):
                zf.write(path, path.relative_to(HEALTHY).as_posix())
    else:
        with tarfile.open(archive, "w") as tar:
            tar.add(HEALTHY, arcname=".")
    assert _tree(open_bundle(archive, work, Limits())) == _tree(HEALTHY)


def test_ci_layout_keeps_run_directory_names(tmp_path: Path, work: Path) -> None:
    """CI's kubernaut-must-gather/<run-dir>/ layout beside the test log gives bundle-relative names."""
    archive = tmp_path / "artifacts.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(HEALTHY / RUN_DIR, arcname=f"kubernaut-must-gather/{RUN_DIR}")
        tar.add(HEALTHY / "integration-signalprocessing.log", arcname="integration-signalprocessing.log")
    bundle = discover(open_bundle(archive, work, Limits()), recogniser=RECOGNISER)
    assert bundle.run_dir == RUN_DIR
    assert f"kubernaut-must-gather/{RUN_DIR}/signalprocessing_signalprocessing_redis_test.log" in [
        s.name for s in bundle.sources
    ]
    assert "integration-signalprocessing.log" in [s.name for s in bundle.sources]


def test_plain_inputs_pass_through_unchanged(tmp_path: Path, work: Path) -> None:
    """A directory without compressed files and a plain log file are returned as given."""
    log = tmp_path / "x.tar.gz"
    log.write_bytes(DS_LINE)  # the name says archive, the content says log
    assert unpack(HEALTHY, work).path == HEALTHY
    assert unpack(log, work).path == log
    assert list(work.iterdir()) == []


def test_archive_is_recognised_by_content_not_name(tmp_path: Path, work: Path) -> None:
    """A .tar.gz saved under a .log name is still unpacked."""
    archive = tmp_path / "download.log"
    with tarfile.open(archive, "w:gz") as tar:
        _add(tar, f"{RUN_DIR}/signalprocessing_datastorage_test.log", DS_LINE)
    assert sniff(archive) == "tar.gz"
    out = open_bundle(archive, work, Limits())
    assert (out / "signalprocessing_datastorage_test.log").read_bytes() == DS_LINE


def test_gzip_log_inside_archive_is_decompressed_under_its_plain_name(tmp_path: Path, work: Path) -> None:
    """A .log.gz member becomes .log and the report can name the original."""
    archive = tmp_path / "a.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        _add(tar, f"{RUN_DIR}/ds_datastorage_test.log.gz", gzip.compress(DS_LINE * 3, mtime=0))
        _add(tar, f"{RUN_DIR}/redis.log", b"1:M 14 Jan 2026 15:24:52.264 * Ready to accept connections tcp\n")
    result = unpack(archive, work, Limits())
    assert (result.path / "ds_datastorage_test.log").read_bytes() == DS_LINE * 3
    assert not (result.path / "ds_datastorage_test.log.gz").exists()
    assert result.origin("ds_datastorage_test.log") == f"{RUN_DIR}/ds_datastorage_test.log.gz"


def test_bare_gzip_log_is_decompressed(tmp_path: Path, work: Path) -> None:
    """A single .log.gz file is decompressed into the work directory without its .gz suffix."""
    log = tmp_path / "integration-signalprocessing.log.gz"
    log.write_bytes(gzip.compress(DS_LINE, mtime=0))
    result = unpack(log, work, Limits())
    assert result.path == work / "integration-signalprocessing.log"
    assert result.path.read_bytes() == DS_LINE
    assert result.origin("integration-signalprocessing.log") == "integration-signalprocessing.log.gz"


def test_directory_with_gzip_logs_is_copied_and_decompressed(tmp_path: Path, work: Path) -> None:
    """A directory holding .log.gz files is analysed from a decompressed copy; the original is untouched."""
    source = tmp_path / RUN_DIR
    source.mkdir()
    (source / "ds_datastorage_test.log.gz").write_bytes(gzip.compress(DS_LINE, mtime=0))
    (source / "notes.txt").write_text("plain\n")
    result = unpack(source, work, Limits())
    assert result.path.is_relative_to(work)
    assert _tree(result.path) == {"ds_datastorage_test.log": DS_LINE, "notes.txt": b"plain\n"}
    assert sorted(p.name for p in source.iterdir()) == ["ds_datastorage_test.log.gz", "notes.txt"]


def test_hostile_tar_members_are_refused_and_the_rest_kept(tmp_path: Path, work: Path) -> None:
    """Traversal, absolute names, links leaving the root, fifos and devices are skipped with a note each."""
    archive = tmp_path / "hostile.tar.gz"
    _hostile_tar(archive)
    result = unpack(archive, work, Limits())
    assert _tree(result.path) == {"signalprocessing_datastorage_test.log": DS_LINE, "copy.log": DS_LINE}
    notes = "\n".join(result.notes)
    assert "../../etc/x: path leaves the archive" in notes
    assert "/tmp/x: absolute path" in notes
    assert f"{RUN_DIR}/passwd: link to '/etc/passwd' points outside the archive" in notes
    assert f"{RUN_DIR}/up: link to '../../outside' points outside the archive" in notes
    assert f"{RUN_DIR}/hard: link to '../outside' points outside the archive" in notes
    assert f"{RUN_DIR}/fifo: device or fifo member; skipped" in notes
    assert f"{RUN_DIR}/sda: device or fifo member; skipped" in notes
    _outside_untouched(tmp_path, work)


def test_zip_with_traversal_and_absolute_names_is_contained(tmp_path: Path, work: Path) -> None:
    """Zip members named ../../etc/x, /tmp/x or ..\\x are refused; the good member is kept."""
    archive = tmp_path / "hostile.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../etc/x", "escape\n")
        zf.writestr("/tmp/x", "absolute\n")
        zf.writestr("..\\..\\x", "windows\n")
        zf.writestr(f"{RUN_DIR}/ds_datastorage_test.log", DS_LINE)
        link = zipfile.ZipInfo(f"{RUN_DIR}/passwd")
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "/etc/passwd")
    result = unpack(archive, work, Limits())
    assert _tree(result.path) == {"ds_datastorage_test.log": DS_LINE}
    assert sum("skipped" in n for n in result.notes) == 4
    _outside_untouched(tmp_path, work)


def test_tar_gz_bomb_is_refused_whole(tmp_path: Path, work: Path) -> None:
    """A .tar.gz holding 1 GiB of zeros in 1 MB stops after a few MB with a one-line error."""
    archive = tmp_path / "bomb.tar.gz"
    _tar_bomb(archive, 1024)
    assert archive.stat().st_size < 2 << 20
    with pytest.raises(BundleError, match=r"^bomb\.tar\.gz: decompresses more than 200 times"):
        unpack(archive, work, Limits())
    assert sum(p.stat().st_size for p in work.rglob("*") if p.is_file()) < 64 << 20


def test_bare_gzip_bomb_is_refused(tmp_path: Path, work: Path) -> None:
    """A .log.gz that inflates 1000-fold past the grace size is refused, and read_gzip refuses it too."""
    log = tmp_path / "ds.log.gz"
    with log.open("wb") as out:
        _gzip_zeros(out, 1024)
    with pytest.raises(BundleError, match="decompression bomb"):
        unpack(log, work, Limits())
    with pytest.raises(BundleError, match="decompression bomb"):
        read_gzip(log, Limits())


def test_gzip_bomb_member_is_skipped_and_the_rest_kept(tmp_path: Path, work: Path) -> None:
    """A bomb .log.gz inside a tar is skipped with a note; the other logs are still analysed."""
    bomb = tmp_path / "bomb.log.gz"
    with bomb.open("wb") as out:
        _gzip_zeros(out, 64)
    archive = tmp_path / "a.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(bomb, arcname=f"{RUN_DIR}/ds_datastorage_test.log.gz")
        _add(tar, f"{RUN_DIR}/good.log", DS_LINE)
    result = unpack(archive, work, Limits())
    assert _tree(result.path) == {"good.log": DS_LINE}
    assert any("ds_datastorage_test.log.gz: decompresses more than 200 times" in n for n in result.notes)


def test_zip_bomb_member_is_refused_from_its_header(tmp_path: Path, work: Path) -> None:
    """A zip member whose header declares a 1000:1 ratio over 16 MiB is skipped unread."""
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("big.log", bytes(16 << 20))
        zf.writestr("ds.log", DS_LINE)
    result = unpack(archive, work, Limits())
    assert _tree(result.path) == {"ds.log": DS_LINE}
    assert any(n.startswith("big.log: decompresses") for n in result.notes)


def test_truncated_tar_gz_is_refused_whole(tmp_path: Path, work: Path) -> None:
    """A .tar.gz cut in the middle is refused with a message saying it is truncated."""
    archive = tmp_path / "cut.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(HEALTHY, arcname="02-healthy")
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(BundleError, match=r"^cut\.tar\.gz: archive is truncated or damaged \(.+\); refused$"):
        unpack(archive, work, Limits())


def test_truncated_zip_is_refused_whole(tmp_path: Path, work: Path) -> None:
    """A zip without its central directory is refused in one line."""
    archive = tmp_path / "cut.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ds.log", DS_LINE * 100)
    archive.write_bytes(archive.read_bytes()[:200])
    with pytest.raises(BundleError, match=r"^cut\.zip: not a readable zip archive"):
        unpack(archive, work, Limits())


def test_truncated_gzip_log_keeps_its_readable_part(tmp_path: Path, work: Path) -> None:
    """A cut-off .log.gz yields the lines that could be decompressed, with a note."""
    data = b"".join(DS_LINE.replace(b"17.993", f"{i:02d}.993".encode()) for i in range(60))
    packed = zlib.compressobj(9, zlib.DEFLATED, 31)
    cut = packed.compress(data) + packed.flush(zlib.Z_SYNC_FLUSH)  # no trailer: the stream is cut
    log = tmp_path / "ds.log.gz"
    log.write_bytes(cut)
    result = unpack(log, work, Limits())
    assert result.path.read_bytes() == data
    assert result.notes == ("ds.log.gz: compressed stream ends early; kept what could be read",)
    content, notes = read_gzip(log)
    assert content == data and len(notes) == 1


def test_limits_on_members_total_and_single_file(tmp_path: Path, work: Path) -> None:
    """Too many members or too many bytes refuse the archive; one oversized file is skipped alone."""
    archive = tmp_path / "many.tar"
    with tarfile.open(archive, "w") as tar:
        for i in range(5):
            _add(tar, f"f{i}.log", DS_LINE * (1 + 20 * (i == 4)))
    with pytest.raises(BundleError, match=r"^many\.tar: more than 3 archive members; refused$"):
        unpack(archive, work / "a", Limits(max_members=3))
    with pytest.raises(BundleError, match=r"^many\.tar: unpacks to more than 300 bytes; refused \(raise"):
        unpack(archive, work / "b", Limits().with_max_bytes(300))
    small = unpack(archive, work / "c", Limits(max_member_bytes=len(DS_LINE) * 2))
    assert sorted(_tree(small.path)) == ["f0.log", "f1.log", "f2.log", "f3.log"]
    assert any(n.startswith("f4.log: larger than the") for n in small.notes)


def test_nested_must_gather_inside_artifact_zip(tmp_path: Path, work: Path) -> None:
    """A CI artifact zip holding the must-gather .tar.gz and the test log unpacks both."""
    inner = tmp_path / "must-gather-signalprocessing-20260116-091329.tar.gz"
    with tarfile.open(inner, "w:gz") as tar:
        tar.add(HEALTHY / RUN_DIR, arcname=f"kubernaut-must-gather/{RUN_DIR}")
    archive = tmp_path / "artifacts.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(inner, inner.name)
        zf.write(HEALTHY / "integration-signalprocessing.log", "integration-signalprocessing.log")
    bundle = discover(open_bundle(archive, work, Limits()), recogniser=RECOGNISER)
    assert bundle.run_dir == RUN_DIR
    assert len(bundle.sources) == 7


def test_archive_with_nothing_usable_is_refused(tmp_path: Path, work: Path) -> None:
    """An archive whose only member is refused gives a one-line error naming the reason."""
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        _add(tar, "../evil.log", DS_LINE)
    with pytest.raises(BundleError, match=r"^evil\.tar: archive holds no usable file \(\.\./evil\.log: path"):
        unpack(archive, work, Limits())
    assert not (tmp_path / "evil.log").exists()


def test_sizes_parse_in_binary_units() -> None:
    """--max-bytes accepts plain numbers and K/M/G/T suffixes, and rejects words."""
    assert parse_size("1048576") == 1 << 20
    assert parse_size("500M") == 500 << 20
    assert parse_size("1.5GiB") == 3 << 29
    assert Limits().with_max_bytes(parse_size("2G")).max_total_bytes == 2 << 30
    with pytest.raises(ValueError, match="not a size"):
        parse_size("lots")


def test_nothing_is_written_through_preexisting_links(tmp_path: Path, work: Path) -> None:
    """No file in the work directory is ever a symbolic link after unpacking."""
    archive = tmp_path / "links.tar"
    with tarfile.open(archive, "w") as tar:
        _link(tar, "dir", ".", tarfile.SYMTYPE)
        _add(tar, "dir/ds.log", DS_LINE)
        _add(tar, "ds2.log", DS_LINE)
    result = unpack(archive, work, Limits())
    assert not any(p.is_symlink() for p in work.rglob("*"))
    assert os.path.commonpath([result.path, work]) == str(work)


def test_member_name_too_long_for_the_file_system_is_skipped(tmp_path: Path, work: Path) -> None:
    """A member the file system cannot hold is skipped with a note; the archive is not called damaged."""
    archive = tmp_path / "long.tar"
    with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as tar:
        _add(tar, "a" * 300 + ".log", DS_LINE)
        _add(tar, "ds.log", DS_LINE)
    result = unpack(archive, work, Limits())
    assert _tree(result.path) == {"ds.log": DS_LINE}
    assert any("cannot be written (File name too long)" in n for n in result.notes)
