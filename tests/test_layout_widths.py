"""Every main page at a laptop's 1280 and 1440 pixels and a phone's 390, in French and in
English, in a real Chromium on the demo's data: the page never scrolls sideways, a wide
table scrolls inside its own frame with the name column kept in view, the presence dot sits
beside the name, and the sidebar folds into a « Menu » button on the phone."""

import pytest

from .design_pages import WIDTHS, demo_pages
from .test_browser import browser, signed_in_page  # noqa: F401  (the module's Chromium)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIDEWAYS = """() => ({
  scroll: document.documentElement.scrollWidth,
  client: document.documentElement.clientWidth,
  culprits: Array.from(document.querySelectorAll('body *'))
    .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1
      && !el.closest('.table-frame, .scroll, .tabs, [popover], .menu, .visually-hidden'))
    .slice(0, 3).map((el) => el.tagName + '.' + el.className),
})"""


def overflow_at(page, width):
    page.set_viewport_size({"width": width, "height": 900})
    return page.evaluate(SIDEWAYS)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_no_main_page_scrolls_sideways(browser, live_server, language):  # noqa: F811
    admin, pages = demo_pages(language)
    page = signed_in_page(browser, live_server, admin)
    problems = []
    for name, path in pages.items():
        page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        page.goto(live_server.url + path)
        assert page.locator("html").get_attribute("lang") == language
        for width in WIDTHS:
            found = overflow_at(page, width)
            if found["scroll"] > found["client"]:
                problems.append(f"{name} at {width}px: {found}")
    page.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_wide_tables_scroll_in_their_frame_with_the_name_in_view(
    browser,  # noqa: F811
    live_server,
    language,
):
    admin, pages = demo_pages(language)
    page = signed_in_page(browser, live_server, admin)
    scrolled = set()
    for name in ("activity", "members", "relationships"):
        page.goto(live_server.url + pages[name])
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            frame = page.locator(".table-frame").first
            cell = frame.locator("tbody tr").first.locator(".name")
            assert cell.evaluate("el => getComputedStyle(el).position") == "sticky", name
            before = cell.bounding_box()
            # scrolled to its far right, the frame still shows the whole name
            scrolls = frame.evaluate("el => el.scrollWidth > el.clientWidth")
            frame.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
            frame_box, cell_box = frame.bounding_box(), cell.bounding_box()
            if scrolls:
                scrolled.add(name)
                assert abs(cell_box["x"] - frame_box["x"]) <= 2, (name, width, cell_box)
            else:
                assert cell_box == before, (name, width)
            assert cell_box["x"] >= frame_box["x"] - 1, (name, width)
            assert cell_box["x"] + cell_box["width"] <= width, (name, width)
            assert cell.inner_text().strip(), (name, width)
            frame.evaluate("el => { el.scrollLeft = 0; }")
    # on a phone each of these tables is wider than the screen: the sticky case was seen
    assert scrolled == {"activity", "members", "relationships"}
    page.close()


def test_the_activity_table_fits_a_laptop_with_the_flag_column_on_screen(
    browser,  # noqa: F811
    live_server,
):
    admin, pages = demo_pages("fr")
    page = signed_in_page(browser, live_server, admin)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + pages["activity"])
    flag_head = page.locator("th.flag-head")
    box = flag_head.bounding_box()
    assert box["x"] + box["width"] <= 1280
    # the flag is an icon whose reasons open on click, without hovering
    flag = page.locator("button.flag-button").first
    assert flag.locator("svg.flag-icon").count() == 1
    reasons = flag.locator(".visually-hidden").inner_text()
    assert reasons.startswith("Signalé :") and len(reasons) > len("Signalé : ")
    flag.focus()
    page.keyboard.press("Enter")
    popover = page.locator("[popover]:popover-open")
    popover.wait_for()
    assert popover.locator("ul").inner_text().strip() in reasons
    # and it leads to where each reason is dealt with (issue 15 §1)
    assert popover.locator("a:has-text('Traiter')").get_attribute("href").endswith("/signalements/")
    pop = popover.bounding_box()
    assert 0 <= pop["x"] and pop["x"] + pop["width"] <= 1280
    page.keyboard.press("Escape")
    assert page.locator("[popover]:popover-open").count() == 0
    page.close()


def test_presence_dot_beside_the_name_and_menus_inside_the_viewport(
    browser,  # noqa: F811
    live_server,
):
    admin, pages = demo_pages("fr")
    page = signed_in_page(browser, live_server, admin)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(live_server.url + pages["members"])
        row = page.locator("tbody tr").first
        dot, link = row.locator(".presence").bounding_box(), row.locator(".name a").bounding_box()
        middle = dot["y"] + dot["height"] / 2
        assert link["y"] <= middle <= link["y"] + link["height"], (width, dot, link)
        assert dot["x"] < link["x"]
        # the last row's « ⋯ » menu opens whole, inside the window
        last = page.locator("tbody tr .row-menu summary").last
        last.scroll_into_view_if_needed()
        last.click()
        menu = page.locator("tbody tr .row-menu details[open] .menu")
        box = menu.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (width, box)
        assert box["y"] >= 0 and box["y"] + box["height"] <= 900, (width, box)
        page.keyboard.press("Escape")
        assert page.locator("tbody tr .row-menu details[open]").count() == 0
    # the programme's header: one primary action, the others in « Autres actions »
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + pages["activity"])
    head = page.locator(".program-head .head-actions")
    assert head.locator("> .button").count() == 1
    head.locator("summary:has-text('Autres actions')").click()
    assert head.locator(".menu a:has-text('Terminer le cycle')").is_visible()
    page.close()


def test_phone_sidebar_folds_into_a_menu_button(browser, live_server):  # noqa: F811
    admin, pages = demo_pages("fr")
    page = signed_in_page(browser, live_server, admin)
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(live_server.url + pages["members"])
    toggle = page.locator("[data-nav-toggle]")
    assert toggle.is_visible()
    links = page.locator(".sidebar-links").all()  # the members' and the interviews' links
    assert len(links) == 2 and not any(group.is_visible() for group in links)
    toggle.click()
    assert page.locator(".sidebar-links a:has-text('Membres')").is_visible()
    assert page.locator(".sidebar-links a:has-text('Entretiens')").is_visible()
    assert toggle.get_attribute("aria-expanded") == "true"
    # the top bar spans the window
    bar = page.locator(".topbar").bounding_box()
    assert bar["x"] == 0 and abs(bar["width"] - 390) <= 1
    page.set_viewport_size({"width": 1280, "height": 800})
    assert not toggle.is_visible()
    assert all(group.is_visible() for group in page.locator(".sidebar-links").all())
    page.close()
