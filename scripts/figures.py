"""The one headless-browser renderer of the book's figures.

    python scripts/figures.py fallbacks [NOTEBOOK ...]   # add a static PNG beside every plotly figure
    python scripts/figures.py screenshots                 # one PNG per figure of the rendered book, and a
                                                          # contact sheet per chapter, under _build/screenshots
    python scripts/figures.py screenshots --theme dark    # the same in the theme's dark mode, each figure with
                                                          # the frame the page draws round it (screenshots/dark)

Both use the same browser (:func:`chromium`, also used by ``tests/book/test_rendered_book.py``) and the
same drawing: plotly.js and MathJax served from the book's own ``_vendor`` files, the figure drawn at the
book's text width, and the element screenshotted.

**Static fallbacks.** A chapter's figures are stored in plotly's JSON mime type, which the book, JupyterLab
and a live Colab kernel draw, but which GitHub, nbviewer and Colab before running show as nothing. So
every such output also gets an ``image/png`` rendering (the book keeps drawing the interactive figure:
its renderer ranks the plotly type first). The PNG is a function of the figure's JSON alone: re-rendering
an unchanged figure gives the same bytes (a test checks it), and renderings are cached by that JSON's hash
under ``_build/figure-cache`` so re-executing a chapter re-renders only the figures that changed.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import http.server
import json
import os
import shutil
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "_vendor"
CACHE = ROOT / "_build" / "figure-cache"
SHOTS = ROOT / "_build" / "screenshots"
PLOTLY_MIME = "application/vnd.plotly.v1+json"
WIDTH = 760  # px: the text width of the rendered book's pages
#: Colour modes of the book's theme that ``screenshots`` can draw.
THEMES = ("light", "dark")
# Bump when the drawing changes (viewport, fonts, page): every cached rendering is then redone.
RENDERER_VERSION = "3"

PAGE = f"""<!doctype html><html><head><meta charset="utf-8">
<style>body{{margin:0;background:#fff;font-family:sans-serif}} #fig{{width:{WIDTH}px}}</style>
<script>window.MathJax={{startup:{{typeset:false}}}};</script>
<script src="mathjax/tex-svg.js"></script><script src="plotly.min.js"></script></head>
<body><div id="fig"></div></body></html>"""


def chromium_path() -> str | None:
    """A Chromium-based browser: ``$LANDSCAPES_CHROMIUM``, a system one, or None for Playwright's own."""
    return (os.environ.get("LANDSCAPES_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
            or shutil.which("google-chrome"))


@contextlib.contextmanager
def chromium():
    """A headless Chromium (Playwright ``Browser``) that reaches nothing but this machine."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True, args=[
            # WebGL (the 3-D figures) through the software renderer: the same pixels on any machine.
            "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--disable-quic",
            "--no-first-run", "--font-render-hinting=none",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def serve(directory: Path):
    """Serve ``directory`` on a free loopback port; yields the base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    def handler(*args, **kwargs):
        return Quiet(*args, directory=str(directory), **kwargs)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


def figure_key(figure: dict) -> str:
    payload = json.dumps(figure, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((RENDERER_VERSION + payload).encode()).hexdigest()[:32]


class Renderer:
    """Draws plotly figures (JSON dicts) to PNG bytes in one browser page, with a cache by content."""

    def __init__(self, browser, base_url: str):
        self.page = browser.new_page(viewport={"width": WIDTH, "height": 600}, device_scale_factor=1)
        self.page.goto(f"{base_url}/figure.html", wait_until="load")
        self.page.wait_for_function("() => window.Plotly && window.MathJax && window.MathJax.startup"
                                    " && window.MathJax.startup.promise")
        self.page.evaluate("() => window.MathJax.startup.promise")

    def png(self, figure: dict) -> bytes:
        key = figure_key(figure)
        cached = CACHE / f"{key}.png"
        if cached.exists():
            return cached.read_bytes()
        layout = dict(figure.get("layout", {}))
        height = int(layout.get("height") or 480)
        # No mode bar, no animation (the first frame, as stored in "data"). Not plotly's staticPlot: it
        # leaves 3-D scenes undrawn.
        self.page.evaluate(
            """([fig, width, height]) => {
                 const el = document.getElementById('fig');
                 Plotly.purge(el);
                 el.style.height = height + 'px';
                 return Plotly.newPlot(el, fig.data || [], Object.assign({}, fig.layout || {},
                   {width: width, height: height}), {displayModeBar: false})
                   .then(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))));
               }""", [figure, WIDTH, height])
        data = _compact(self.page.locator("#fig").screenshot(animations="disabled"))
        CACHE.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(data)
        return data


def _compact(png: bytes) -> bytes:
    """The screenshot as a 256-colour PNG: a fallback image, a fraction of the size (deterministic).

    Quantized by octree, not median cut: median cut splits the colour cube by pixel counts, so the few
    pixels of a small marker (a saddle, a maximizer) were merged into the nearest large colour box (the
    surface's), and markers of different types came out one colour. The octree gives every occupied
    colour region a leaf, so the figure's few flat colours (:mod:`landscape_lib.viz.style`) survive to
    within a few levels; measured on 12 of the book's figures, its PNGs were also a quarter smaller
    (234 kB against 315 kB; 845 kB as RGB).
    """
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(png)).convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE,
                                                             dither=Image.Dither.NONE)
    out = BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


@contextlib.contextmanager
def renderer():
    """A :class:`Renderer` on a page served from a scratch copy of ``_vendor`` (plotly.js, MathJax)."""
    if not (VENDOR / "plotly.min.js").exists() or not (VENDOR / "mathjax").exists():
        import fetch_static_assets

        fetch_static_assets.main()
    site = ROOT / "_build" / "figure-page"
    site.mkdir(parents=True, exist_ok=True)
    (site / "figure.html").write_text(PAGE)
    for name in ("plotly.min.js", "mathjax"):
        target = site / name
        if not target.exists():
            target.symlink_to(VENDOR / name)
    with chromium() as browser, serve(site) as url:
        yield Renderer(browser, url)


def add_fallbacks(path: Path, render: Renderer) -> int:
    """Give every plotly output of the notebook at ``path`` an ``image/png`` beside it; returns how many."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    count = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if PLOTLY_MIME in data:
                figure = data[PLOTLY_MIME]
                figure = json.loads(figure) if isinstance(figure, str) else figure
                data["image/png"] = base64.b64encode(render.png(figure)).decode()
                # Which figure the PNG shows, so that a test can tell a stale fallback from a current one.
                out.setdefault("metadata", {})["landscape_figure"] = figure_key(figure)
                count += 1
    text = nbformat.writes(nb)
    path.write_text(text if text.endswith("\n") else text + "\n")
    return count


def screenshots(html: Path = ROOT / "_build" / "html", out: Path | None = None, *, theme: str = "light",
                chapters: list[str] | None = None) -> dict[str, list[Path]]:
    """One PNG per drawn figure of each chapter page of the rendered book, and a contact sheet per chapter.

    ``theme`` is the colour mode of the book's theme (pydata-sphinx-theme: ``light`` or ``dark``). In dark
    mode each PNG shows the figure with the frame the page puts round it, so that a figure that would not
    read on the dark page shows as such; the PNGs go to ``out`` (default ``_build/screenshots``, or its
    ``dark`` folder). ``chapters``: only the chapters with these stems (default: every chapter).
    Returns ``{chapter stem: [figure PNGs]}``.
    """
    sys.path.insert(0, str(ROOT / "scripts"))
    from execute_notebooks import toc_notebooks

    if theme not in THEMES:
        raise ValueError(f"theme must be one of {THEMES}; got {theme!r}")
    out = out or (SHOTS if theme == "light" else SHOTS / theme)
    if not (html / "index.html").exists():
        raise SystemExit(f"{html.relative_to(ROOT)} is missing: run `make book` (or build_book.py --committed)")
    shots: dict[str, list[Path]] = {}
    with chromium() as browser, serve(html) as url:
        for nb in toc_notebooks():
            if chapters and nb.stem not in chapters:
                continue
            page_path = nb.relative_to(ROOT).with_suffix(".html")
            page = browser.new_page(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
            # The theme reads the reader's choice from localStorage before it draws the page.
            page.add_init_script(f"localStorage.setItem('mode', '{theme}');"
                                 f" localStorage.setItem('theme', '{theme}');")
            page.goto(f"{url}/{page_path}", wait_until="load")
            page.wait_for_function("() => !window.MathJax || (window.MathJax.startup && window.MathJax.startup"
                                   ".promise)")
            figures = page.locator(".plotly-graph-div")
            n = figures.count()
            folder = out / nb.stem
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            shots[nb.stem] = []
            for i in range(n):
                fig = figures.nth(i)
                fig.scroll_into_view_if_needed()
                page.wait_for_function("(el) => el.querySelector('.main-svg')", arg=fig.element_handle(),
                                       timeout=60_000)
                target = folder / f"figure-{i + 1:02d}.png"
                # Dark mode: the output box round the figure (the theme pads and colours it).
                (fig if theme == "light" else fig.locator("xpath=..")).screenshot(path=str(target),
                                                                                 animations="disabled")
                shots[nb.stem].append(target)
            page.close()
            if shots[nb.stem]:
                contact_sheet(shots[nb.stem], out / f"{nb.stem}-contact-sheet.png", title=nb.stem)
    return shots


def contact_sheet(images: list[Path], target: Path, *, title: str, columns: int = 3, thumb: int = 420) -> None:
    """The figures of one chapter as numbered thumbnails on one PNG."""
    from PIL import Image, ImageDraw

    thumbs = []
    for path in images:
        im = Image.open(path).convert("RGB")
        im.thumbnail((thumb, thumb))
        thumbs.append(im)
    rows = (len(thumbs) + columns - 1) // columns
    cell_h = max(t.height for t in thumbs) + 24
    sheet = Image.new("RGB", (columns * (thumb + 10) + 10, rows * cell_h + 40), "white")
    draw = ImageDraw.Draw(sheet)
    draw.text((10, 10), f"{title}: {len(thumbs)} figure(s)", fill="black")
    for i, im in enumerate(thumbs):
        x, y = 10 + (i % columns) * (thumb + 10), 40 + (i // columns) * cell_h
        draw.text((x, y), f"figure {i + 1}", fill="black")
        sheet.paste(im, (x, y + 16))
    sheet.save(target)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    fb = sub.add_parser("fallbacks", help="add a static PNG beside every plotly figure of the notebooks")
    fb.add_argument("notebooks", nargs="*", type=Path)
    sh = sub.add_parser("screenshots", help="one PNG per figure of the rendered book, and contact sheets")
    sh.add_argument("--theme", choices=THEMES, default="light",
                    help="the book theme's colour mode (dark: PNGs under _build/screenshots/dark)")
    sh.add_argument("chapters", nargs="*", help="chapter stems, e.g. 02_tensor_landscape (default: all)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "scripts"))
    if args.command == "fallbacks":
        from execute_notebooks import toc_notebooks

        notebooks = [p.resolve() for p in args.notebooks] or toc_notebooks()
        with renderer() as render:
            for path in notebooks:
                shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                print(f"{shown}: {add_fallbacks(path, render)} static figure(s)", flush=True)
        return 0
    shots = screenshots(theme=args.theme, chapters=args.chapters)
    where = (SHOTS if args.theme == "light" else SHOTS / args.theme).relative_to(ROOT)
    for stem, files in shots.items():
        print(f"{stem}: {len(files)} figure(s) -> {where}/{stem}/, {stem}-contact-sheet.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
