"""The rendered book (``_build/html``, made from the committed outputs) in headless Chromium.

Every page loads with zero JavaScript errors and no request leaving the machine; every plotly figure a
chapter's notebook produced is drawn on its page; a screenshot of each chapter is saved under
``_build/screenshots``. Run after ``python scripts/build_book.py --committed`` (``make test`` does).
"""

from __future__ import annotations

import functools
import http.server
import sys
import threading
from pathlib import Path

import pytest
from book_pages import CHAPTERS, ROOT, plotly_outputs, read

HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
sys.path.insert(0, str(ROOT / "scripts"))
import figures  # noqa: E402  (the one headless-browser setup, shared with the figure renderer)

pytestmark = pytest.mark.book


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    if not (HTML / "index.html").exists():
        pytest.fail("_build/html is missing: run `python scripts/build_book.py --committed` first")
    handler = functools.partial(QuietHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    path = figures.chromium_path()
    if path is not None and not Path(path).exists():
        pytest.fail(f"LANDSCAPES_CHROMIUM names {path}, which does not exist")
    try:
        with figures.chromium() as b:
            yield b
    except Exception as exc:  # no system browser and no Playwright build
        if "Executable doesn't exist" in str(exc):
            pytest.fail("no browser for the rendered-book checks: `make browser` installs one "
                        "(Debian's chromium, or Playwright's Chromium where apt-get is missing)")
        raise


def open_page(browser, url: str):
    """Load ``url``; return the page and the console errors, page errors and off-machine requests."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
            if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)

    def route(r):
        if r.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
            r.continue_()
        else:
            problems.append(f"request leaving the machine: {r.request.url}")
            r.abort()

    page.route("**/*", route)
    page.set_default_timeout(120_000)
    page.goto(url, wait_until="load")
    # MathJax typesets asynchronously; its startup promise resolves once the page's math is done.
    page.wait_for_function("() => !window.MathJax || (window.MathJax.startup && window.MathJax.startup.promise)")
    page.evaluate("() => window.MathJax && window.MathJax.startup.promise.then(() => true)")
    return page, problems


# Pages without notebook figures; the chapters are opened (and checked for errors) by the figure test.
PAGES = ["index.html", "book/intro.html", "book/notation.html", "book/references.html", "book/formulas.html",
         "book/api.html", "book/08_synthesis.html"]


@pytest.mark.parametrize("page_path", PAGES)
def test_page_loads_without_errors(server, browser, page_path):
    page, problems = open_page(browser, f"{server}/{page_path}")
    try:
        assert page.title(), f"{page_path} has no title"
        page.wait_for_timeout(1000)  # late errors (widgets, figures drawn after load)
        assert not problems, f"{page_path}:\n" + "\n".join(problems)
    finally:
        page.close()


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.name)
def test_every_figure_is_drawn(server, browser, notebook):
    expected = len(plotly_outputs(read(notebook)))
    page_path = notebook.relative_to(ROOT).with_suffix(".html")
    page, problems = open_page(browser, f"{server}/{page_path}")
    try:
        page.wait_for_function(
            f"() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= {min(expected, 1)}",
            timeout=120_000)
        drawn = page.evaluate(
            "() => Array.from(document.querySelectorAll('.plotly-graph-div'))"
            ".filter(d => d.classList.contains('js-plotly-plot') && d.querySelector('.main-svg')"
            " && d._fullData && d._fullData.length > 0).length")
        placeholders = page.evaluate("() => document.querySelectorAll('.plotly-graph-div').length")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{notebook.stem}.png"), full_page=True)
        assert placeholders == expected, (
            f"{page_path}: the notebook stores {expected} plotly figure(s), the page has {placeholders}")
        assert drawn == expected, f"{page_path}: {drawn} of {expected} plotly figure(s) drawn"
        assert not problems, f"{page_path}:\n" + "\n".join(problems)
    finally:
        page.close()


def public_modules() -> list[str]:
    """Every public module of landscape_lib (private ones start with an underscore)."""
    lib = ROOT / "landscape_lib"
    return sorted("landscape_lib." + ".".join(p.relative_to(lib).with_suffix("").parts)
                  for p in lib.rglob("*.py") if not any(part.startswith("_") for part in p.relative_to(lib).parts))


def test_api_reference_documents_every_public_name():
    """The API reference appendix has an entry for every module and every name in its ``__all__``."""
    import importlib

    html = (ROOT / "_build" / "html" / "book" / "api.html").read_text()
    missing = []
    for name in public_modules():
        module = importlib.import_module(name)
        missing += [f"{name}.{attr}" for attr in getattr(module, "__all__", [])
                    if f'id="{name}.{attr}"' not in html]
        if f'id="module-{name}"' not in html:
            missing.append(name)
    assert not missing, "not in book/api.md's rendered page: " + ", ".join(missing)
