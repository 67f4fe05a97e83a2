import pytest
from .design_pages import demo_pages
from .test_browser import browser, signed_in_page  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

def test_shots(browser, live_server):  # noqa: F811
    admin, pages = demo_pages("fr")
    page = signed_in_page(browser, live_server, admin)
    for name in ("activity", "members", "relationships"):
        for w in (1280, 390):
            page.set_viewport_size({"width": w, "height": 900})
            page.goto(live_server.url + pages[name])
            page.screenshot(path=f"/tmp/design_{name}_{w}.png")
    page.close()
