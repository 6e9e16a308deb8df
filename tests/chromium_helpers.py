"""Debian's chromium for the browser tests (Playwright drives it; no browser is downloaded)."""

from __future__ import annotations

import os
import shutil

import pytest


def chromium_path() -> str:
    """The chromium executable, or a skip (a failure with ``SCICURATE_REQUIRE_CHROMIUM=1``)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    if os.environ.get("SCICURATE_REQUIRE_CHROMIUM") == "1":
        pytest.fail("chromium is not installed (make test installs the Debian package)")
    pytest.skip("chromium is not installed")
