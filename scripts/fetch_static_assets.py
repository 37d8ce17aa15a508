"""Put every script the book's pages load into ``_vendor`` (not committed;
Sphinx serves it as ``_static``), so the book works offline.

- plotly.js: copied from the installed plotly package (the version that made the figures);
- require.js, the Jupyter widgets HTML manager and MathJax: pinned npm packages, fetched with
  ``npm pack`` into a cache under ``_build`` (once), checked against their pinned integrity hashes (the
  registry's ``dist.integrity``; a cached file is checked again on every use) and unpacked, refusing any
  archive member that would land outside its destination.

``_config.yml`` points Sphinx and myst-nb at these files instead of their CDN defaults.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path, PurePosixPath

import plotly

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "_vendor"
CACHE = ROOT / "_build" / ".npm-packages"

# package spec -> list of (path inside the package, destination under _vendor)
NPM_PACKAGES = {
    "requirejs@2.3.7": [("require.js", "require.js")],
    "@jupyter-widgets/html-manager@1.0.15": [("dist", "html-manager")],
    "mathjax@3.2.2": [("es5", "mathjax")],
}
# Subresource-integrity hashes of the tarballs, as the registry publishes them (`npm view SPEC
# dist.integrity`); a tarball that does not match is deleted and the build stops.
INTEGRITY = {
    "requirejs@2.3.7":
        "sha512-DouTG8T1WanGok6Qjg2SXuCMzszOo0eHeH9hDZ5Y4x8Je+9JB38HdTLT4/VA8OaUhBa0JPVHJ0pyBkM1z+pDsw==",
    "@jupyter-widgets/html-manager@1.0.15":
        "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
    "mathjax@3.2.2": "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
}


def tarball_name(spec: str) -> str:
    name, _, version = spec.rpartition("@")
    return f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"


def integrity(path: Path) -> str:
    """The subresource-integrity string (``sha512-<base64>``) of a file."""
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def fetch(spec: str) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / tarball_name(spec)
    if not path.exists():
        print(f"fetching {spec}", flush=True)
        subprocess.run(["npm", "pack", spec, "--silent", "--pack-destination", str(CACHE)],
                       check=True, stdout=subprocess.DEVNULL)
    if not path.exists():
        raise SystemExit(f"npm pack {spec} did not produce {path}")
    got = integrity(path)
    if got != INTEGRITY[spec]:
        path.unlink()
        raise SystemExit(f"{spec}: the tarball's integrity is {got}, expected the pinned {INTEGRITY[spec]}; "
                         f"the file was deleted")
    return path


def safe_relative(name: str, prefix: str) -> PurePosixPath:
    """The path of archive member ``name`` below ``prefix``; refuse anything that could leave it."""
    rel = PurePosixPath(name[len(prefix):].lstrip("/"))
    if PurePosixPath(name).is_absolute() or ".." in PurePosixPath(name).parts or "\\" in name:
        raise SystemExit(f"refusing archive member {name!r}: it would be written outside its destination")
    return rel


def unpack(tarball: Path, inner: str, dest: Path) -> None:
    prefix = f"package/{inner}"
    with tarfile.open(tarball) as tar:
        members = [m for m in tar.getmembers()
                   if (m.name == prefix or m.name.startswith(prefix + "/")) and not m.name.endswith(".map")]
        if not members:
            raise SystemExit(f"{tarball.name} has no {inner}")
        for m in members:
            rel = safe_relative(m.name, prefix)
            if not m.isfile():
                if m.isdir():
                    continue
                raise SystemExit(f"refusing archive member {m.name!r} of {tarball.name}: not a plain file")
            target = dest / rel if rel.parts else dest
            target.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(m) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)


def main() -> int:
    STATIC.mkdir(exist_ok=True)
    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    shutil.copyfile(plotly_js, STATIC / "plotly.min.js")
    for spec, items in NPM_PACKAGES.items():
        tarball = fetch(spec)
        for inner, dest in items:
            target = STATIC / dest
            if target.is_dir():
                shutil.rmtree(target)
            unpack(tarball, inner, target)
    (STATIC / "landscape-book.css").write_text(
        "/* Plotly figures take the full text width. */\n.landscape-figure { width: 100%; }\n")
    print(f"static assets ready in {STATIC.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
