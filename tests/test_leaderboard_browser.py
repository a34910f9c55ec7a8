"""leaderboard.html in a real browser (headless Chromium): rows, sample images, sorting, a screenshot.

The page is rendered from results files whose run folders hold their videos (as `run` writes
them), so the previews come from there (no method runs). Needs Debian's ``chromium`` package;
skipped with the reason where there is none (`pytest tests/test_leaderboard_browser.py`). The
screenshot is kept at ``$VBENCH_LITE_SCREENSHOT`` when that is set.

The checks run inside the page: a copy of it gets a script that waits for the window's ``load``
event (every image loaded or failed), counts rows and loaded images, clicks a column header twice
and writes what it saw into the DOM, which ``chromium --dump-dom`` prints.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_leaderboard_fixtures import standard_results
from tests.test_leaderboard_samples import with_run_videos
from vbench_lite.leaderboard import render_leaderboard

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no headless Chromium (Debian: apt-get install chromium)")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--allow-file-access-from-files", "--hide-scrollbars", "--virtual-time-budget=10000"]

PROBE = """
<script>
window.addEventListener("load", function () {
  var table = document.querySelector("table.leaderboard");
  var ids = function () { return Array.prototype.map.call(table.tBodies[0].rows, function (r) {
    return r.cells[0].textContent; }); };
  var imgs = document.querySelectorAll("table.samples img");
  var loaded = Array.prototype.filter.call(imgs, function (i) { return i.complete && i.naturalWidth > 0; });
  var heads = Array.prototype.map.call(table.tHead.rows[0].cells, function (h) { return h.textContent; });
  var fvd = table.tHead.rows[0].cells[heads.indexOf("FVD\\u2193")];
  var before = ids();
  fvd.click(); var asc = ids();
  fvd.click(); var desc = ids();
  var out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({rows: before, headers: heads, images: imgs.length, loaded: loaded.length,
    absent: document.querySelectorAll("table.samples .absent").length, asc: asc, desc: desc,
    sort: fvd.getAttribute("aria-sort")});
  document.body.appendChild(out);
});
</script>
"""


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CHROMIUM, *FLAGS, *args], capture_output=True, text=True, timeout=180)  # type: ignore[list-item]


def test_page_rows_samples_and_sorting_in_chromium(tmp_path: Path) -> None:
    out = tmp_path / "lb"
    done = render_leaderboard(with_run_videos(tmp_path / "results"), out, formats=["html"],
                              copy_results=False, with_videos=True)
    methods = [r.method_id for r in done.leaderboard.rows]
    assert len(done.previews) == 8 * (len(methods) + 1)  # 8 prompts x (real + every method)
    page = (out / "leaderboard.html").read_text()
    assert "http://" not in page and "https://" not in page  # works offline
    probe = out / "probe.html"
    probe.write_text(page.replace("</body>", PROBE + "</body>"))
    proc = _chromium("--dump-dom", probe.as_uri())
    m = re.search(r'<pre id="probe">(.*?)</pre>', proc.stdout, re.S)
    assert m, proc.stderr[-2000:]
    seen = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert seen["rows"] == methods
    assert seen["images"] == 8 * (len(methods) + 1) and seen["loaded"] == seen["images"] and seen["absent"] == 0
    fvd = {r.method_id: r.cells["fvd"].value for r in done.leaderboard.rows}
    assert len(set(fvd.values())) == len(fvd)  # a strict order to check
    assert seen["asc"] == sorted(methods, key=lambda m: fvd[m])
    assert seen["desc"] == seen["asc"][::-1] and seen["sort"] == "descending"

    shot = Path(os.environ.get("VBENCH_LITE_SCREENSHOT") or tmp_path / "screenshot.png")
    proc = _chromium(f"--screenshot={shot}", "--window-size=1400,1700", (out / "leaderboard.html").as_uri())
    assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", proc.stderr[-2000:]


def test_a_page_without_previews_says_so_instead_of_broken_images(tmp_path: Path) -> None:
    out = tmp_path / "lb"
    render_leaderboard(standard_results(tmp_path / "results"), out, formats=["html"], copy_results=False)
    probe = out / "probe.html"
    probe.write_text((out / "leaderboard.html").read_text().replace("</body>", PROBE + "</body>"))
    proc = _chromium("--dump-dom", probe.as_uri())
    m = re.search(r'<pre id="probe">(.*?)</pre>', proc.stdout, re.S)
    assert m, proc.stderr[-2000:]
    seen = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert seen["loaded"] == 0 and seen["absent"] > 0 and seen["images"] == 0  # each img replaced by its note
