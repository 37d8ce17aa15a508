"""The vendored-scripts fetcher refuses archives that would write outside ``_vendor`` and tarballs whose
integrity differs from the pinned hash."""

from __future__ import annotations

import io
import sys
import tarfile

import pytest
from book_pages import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import fetch_static_assets as fsa  # noqa: E402


def tarball(path, members: dict, symlink: str | None = None):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if symlink:
            info = tarfile.TarInfo(symlink)
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            tar.addfile(info)
    return path


def test_unpack_writes_the_files_below_the_destination(tmp_path):
    t = tarball(tmp_path / "ok.tgz", {"package/dist/a.js": b"a", "package/dist/sub/b.js": b"b"})
    fsa.unpack(t, "dist", tmp_path / "out")
    assert (tmp_path / "out" / "a.js").read_bytes() == b"a"
    assert (tmp_path / "out" / "sub" / "b.js").read_bytes() == b"b"


@pytest.mark.parametrize("name", ["package/dist/../../../evil.js", "package/dist/sub/../../../evil.js"])
def test_unpack_refuses_members_that_climb_out(tmp_path, name):
    t = tarball(tmp_path / "bad.tgz", {"package/dist/a.js": b"a", name: b"x"})
    with pytest.raises(SystemExit, match="outside its destination"):
        fsa.unpack(t, "dist", tmp_path / "out" / "inner")
    assert not list(tmp_path.rglob("evil.js"))


def test_unpack_refuses_links(tmp_path):
    t = tarball(tmp_path / "link.tgz", {"package/dist/a.js": b"a"}, symlink="package/dist/passwd")
    with pytest.raises(SystemExit, match="not a plain file"):
        fsa.unpack(t, "dist", tmp_path / "out")


def test_a_tarball_with_another_hash_is_deleted(tmp_path, monkeypatch):
    monkeypatch.setattr(fsa, "CACHE", tmp_path)
    fake = tmp_path / fsa.tarball_name("mathjax@3.2.2")
    fake.write_bytes(b"not the real package")
    with pytest.raises(SystemExit, match="expected the pinned"):
        fsa.fetch("mathjax@3.2.2")
    assert not fake.exists()


def test_every_pinned_package_has_an_integrity_hash():
    assert set(fsa.NPM_PACKAGES) == set(fsa.INTEGRITY)
    assert all(v.startswith("sha512-") for v in fsa.INTEGRITY.values())
