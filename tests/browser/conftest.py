from tests.browser.reach import chromium, scene  # noqa: F401  (session fixtures)
