from tests.browser.server import browser, live_server  # noqa: F401  (fixtures)
