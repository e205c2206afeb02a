"""The HTML report in a real browser: headless Chromium loads it from disk, every embedded figure
decodes to a picture with a size, and the rendered page is not blank.

Needs Debian's ``chromium`` (``.ci/run`` installs it); skipped with that reason where it is missing.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from analysis.load import load_trials
from analysis.report import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)"
)

# Flags for a sandbox-less container without a GPU or network, each run with a fresh profile.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)

# Records each image's decoded size on <body data-images="..."> once the page has loaded.
PROBE = """<script>
window.addEventListener("load", () => {
  document.body.dataset.images = JSON.stringify(
    Array.from(document.images, img => ({alt: img.alt, width: img.naturalWidth, height: img.naturalHeight, complete: img.complete})));
});
</script>"""


def chromium(tmp_path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def report_page(small_store, tmp_path_factory):
    out = tmp_path_factory.mktemp("browser-report")
    report = write_report(
        load_trials(small_store["uri"]), out, tracking_uri=small_store["uri"], n_boot=100
    )
    return out, report


def test_every_figure_of_the_report_loads_in_chromium(report_page, tmp_path):
    out, report = report_page
    page = (out / "report.html").read_text()
    expected = page.count("<img ")
    assert expected >= 5 and expected == sum(len(s["figures"]) for s in report["studies"])
    probe = out / "probe.html"
    probe.write_text(page.replace("</body>", PROBE + "</body>"))
    done = chromium(tmp_path, "--virtual-time-budget=20000", "--dump-dom", probe.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'data-images="([^"]*)"', done.stdout)
    assert found, "the page's load event never ran: " + done.stdout[:500]
    images = json.loads(html.unescape(found.group(1)))
    assert len(images) == expected
    for image in images:
        assert image["complete"] and image["width"] > 100 and image["height"] > 100, image
    assert "Best configurations" in done.stdout


def test_the_rendered_report_is_not_blank(report_page, tmp_path):
    from PIL import Image

    out, _ = report_page
    shot = tmp_path / "report.png"
    done = chromium(
        tmp_path, "--window-size=1200,3000", f"--screenshot={shot}", (out / "report.html").as_uri()
    )
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (1200, 3000)
    pixels = np.asarray(image.resize((300, 750))).reshape(-1, 3)
    inked = float((pixels.min(axis=1) < 200).mean())
    colours = {tuple(c) for c in (pixels // 32).tolist()}
    assert inked > 0.02, f"only {inked:.1%} of the page is drawn on"
    assert len(colours) > 20, "no coloured figures on the page"  # text alone is black and grey
