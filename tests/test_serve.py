"""briefgen serve: files only from the output folder, the error page, and a real browser that reloads itself."""

from __future__ import annotations

import io
import os
import shutil
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from briefgen.build import BuildOptions
from briefgen.live.serve import EVENTS_PATH, Preview, serve, with_reload
from briefgen.live.watch import Rebuild
from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
NAVY = (10, 34, 64)  # the house band, #0a2240 in brief.css


@pytest.fixture
def preview(tmp_path: Path) -> Preview:
    output = tmp_path / "output"
    (output / "charts").mkdir(parents=True)
    (output / "brief.html").write_text("<html><body><p>brief</p></body></html>")
    (output / "charts" / "a.svg").write_text("<svg/>")
    (output / ".cache").mkdir()
    (output / ".cache" / "last-build.json").write_text("{}")
    (tmp_path / "secret.txt").write_text("outside")
    (output / "out.txt").symlink_to(tmp_path / "secret.txt")
    (output / "in.svg").symlink_to(output / "charts" / "a.svg")
    (output / "linked").symlink_to(tmp_path)
    return Preview(output)


def test_only_regular_files_inside_the_output_folder_are_served(preview: Preview):
    assert preview.locate("/") == preview.output_dir / "brief.html"
    assert preview.locate("/charts/a.svg") == preview.output_dir / "charts" / "a.svg"
    for path in (
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/charts/../../secret.txt",
        "/out.txt",
        "/in.svg",
        "/linked/secret.txt",
        "/.cache/last-build.json",
        "/charts",
        "/missing.pdf",
        "/..%5csecret.txt",
    ):
        assert preview.locate(path) is None, path


def test_the_reload_script_goes_before_the_end_of_the_body():
    page = with_reload(b"<html><body><p>x</p></body></html>", 3)
    assert page.index(b"EventSource") < page.index(b"</body>") and b'var shown = "3"' in page
    assert EVENTS_PATH.encode() in page


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class Running:
    """`serve` in a thread on a free port, stopped at the end of the test."""

    def __init__(self, options: BuildOptions):
        self.reports: list[Rebuild] = []
        self.stop = threading.Event()
        self.url_ready = threading.Event()
        self.url = ""

        def ready(url: str) -> None:
            self.url = url
            self.url_ready.set()

        self.thread = threading.Thread(
            target=serve,
            args=(options, self.reports.append),
            kwargs={"port": 0, "ready": ready, "stop": self.stop},
            daemon=True,
        )
        self.thread.start()
        assert self.url_ready.wait(60), "the server did not start"

    def wait_for(self, count: int, timeout: float = 180) -> Rebuild:
        deadline = time.monotonic() + timeout
        while len(self.reports) < count:
            assert time.monotonic() < deadline, "serve did not rebuild"
            time.sleep(0.05)
        return self.reports[count - 1]

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


def test_a_failed_rebuild_shows_its_error_and_keeps_the_last_good_files(tmp_path: Path):
    shutil.copytree(ROOT / "inputs", tmp_path / "inputs")
    output = tmp_path / "output"
    running = Running(BuildOptions(tmp_path / "inputs", output))
    try:
        assert running.wait_for(1).error is None
        status, body = _get(running.url)
        assert status == 200 and b"EventSource" in body and b"Northgate Securities" in body
        assert b"EventSource" not in (output / "brief.html").read_bytes()  # the file on disk has no script
        status, pdf = _get(running.url + "brief.pdf")
        assert status == 200 and pdf == (output / "brief.pdf").read_bytes()
        good_pdf = pdf
        network = tmp_path / "inputs" / "network.csv"
        network.write_text(network.read_text().replace("2026-01-14,", "<b>14/01/2026</b>,", 1))
        assert running.wait_for(2).error is not None
        status, body = _get(running.url)
        assert status == 200 and b"The last rebuild failed" in body
        assert b"&lt;b&gt;14/01/2026&lt;/b&gt;" in body and b"<b>14/01" not in body  # escaped
        assert (output / "brief.pdf").read_bytes() == good_pdf
        assert _get(running.url + "../inputs/brief.yaml")[0] == 404
    finally:
        running.close()


# --- in a real browser -----------------------------------------------------------------------


@pytest.fixture
def browser(tmp_path: Path):
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        pytest.skip("chromium and chromium-driver are not installed (make system installs them)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,1600",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _pixel(png: bytes, x: int, y: int) -> tuple[int, int, int]:
    from PIL import Image

    pixel = Image.open(io.BytesIO(png)).convert("RGB").getpixel((x, y))
    assert isinstance(pixel, tuple), pixel  # an RGB image's pixel is (red, green, blue)
    red, green, blue = pixel
    return red, green, blue


def test_the_browser_shows_the_styled_brief_and_reloads_after_an_edit(tmp_path: Path, browser):
    from selenium.webdriver.support.ui import WebDriverWait

    shutil.copytree(ROOT / "inputs", tmp_path / "inputs")
    running = Running(BuildOptions(tmp_path / "inputs", tmp_path / "output"))
    try:
        assert running.wait_for(1).error is None
        browser.get(running.url)
        WebDriverWait(browser, 60).until(
            lambda d: d.execute_script(
                "return document.readyState === 'complete' && document.fonts.check('12px Inter')"
            )
        )
        style = browser.execute_script(
            "var band = document.querySelector('.house-band'), img = document.querySelector('.chart img');"
            "return [getComputedStyle(band).backgroundColor, getComputedStyle(document.body).fontFamily,"
            "        img.naturalWidth, getComputedStyle(document.body).maxWidth];"
        )
        assert style[0] == "rgb(10, 34, 64)" and "Inter" in style[1]
        assert style[2] > 0, "the charts did not load"
        assert style[3] != "none", "the screen stylesheet was not applied"
        png = browser.get_screenshot_as_png()
        (tmp_path / "served.png").write_bytes(png)
        band_top = browser.execute_script(
            "var r = document.querySelector('.house-band').getBoundingClientRect();"
            "return [r.left + 10, r.top + 10, r.right + 10];"
        )
        ratio = browser.execute_script("return window.devicePixelRatio")
        x, y = int(band_top[0] * ratio), int(band_top[1] * ratio)
        assert _pixel(png, x, y) == NAVY, "the screenshot does not show the house band"
        assert _pixel(png, int(band_top[2] * ratio), y) != NAVY, "the page is not laid out as a sheet"

        browser.execute_script("window.briefgenMark = 'before the edit';")
        outlook = tmp_path / "inputs" / "commentary" / "outlook.md"
        outlook.write_text(outlook.read_text() + "\nA sentence written during the test, zebra-7.\n")
        WebDriverWait(browser, 180).until(lambda d: "zebra-7" in d.find_element("tag name", "body").text)
        assert browser.execute_script("return window.briefgenMark === undefined"), "the page was not reloaded"
        assert running.reports[-1].error is None
    finally:
        running.close()
