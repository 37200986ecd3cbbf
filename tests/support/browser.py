"""One headless Chromium (Debian's, through its chromedriver) for the browser tests: it records
every URL it requested (to check that nothing leaves 127.0.0.1) and the console, and takes
screenshots into ``test-artifacts/screenshots`` (``CALLSCOPE_TEST_ARTIFACTS`` moves it). Importing
this module skips the test module when Chromium is missing, except under CI, where it fails."""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("CALLSCOPE_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "screenshots"
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")

if not (CHROMIUM and CHROMEDRIVER):
    if os.environ.get("CI"):
        raise RuntimeError("chromium and chromium-driver are not installed: `bash .ci/run` installs them")
    pytest.skip("Debian's chromium and chromium-driver are not installed (`bash .ci/run` installs them)",
                allow_module_level=True)

from selenium import webdriver  # noqa: E402 - after the skip: selenium is a dev dependency
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service as ChromeService  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


class Browser:
    """One headless Chromium; keeps every URL it requested (from the DevTools network log)."""

    def __init__(self, base: str) -> None:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--autoplay-policy=no-user-gesture-required", "--window-size=1440,900",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-default-apps"):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        self.driver = webdriver.Chrome(service=ChromeService(CHROMEDRIVER), options=options)
        self.driver.execute_cdp_cmd("Network.enable", {})
        self.base = base
        self.requested: list[str] = []
        self.console: list[dict] = []

    def drain(self) -> None:
        self.console += self.driver.get_log("browser")
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                self.requested.append(message["params"]["request"]["url"])

    def get(self, path: str) -> None:
        self.driver.get(self.base + path)

    def ready(self, timeout: float = 20) -> None:
        WebDriverWait(self.driver, timeout).until(lambda d: d.execute_script("return document.body.dataset.ready") == "1")

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def find(self, css: str):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def finds(self, css: str):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait(self, condition, timeout: float = 20, message: str = ""):
        # a page that re-renders (after a save) may replace an element between finding and reading
        # it: that is "not yet", not a failure
        return WebDriverWait(self.driver, timeout, poll_frequency=0.2,
                             ignored_exceptions=(StaleElementReferenceException,)).until(lambda d: condition(), message)

    def sign_in(self, key: str) -> None:
        self.get("/signin")
        self.find("#key").send_keys(key)
        self.find("#signin-form button").click()
        self.wait(lambda: urlparse(self.driver.current_url).path != "/signin", message="sign-in did not leave /signin")

    def viewport(self, width: int, height: int) -> None:
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        path.write_bytes(base64.b64decode(self.driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})["data"]))
        return path
