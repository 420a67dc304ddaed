"""End-to-end test of the notes board example in headless Chromium.

The app is served by werkzeug's server from a background thread on a loopback
port; selenium drives Debian's ``chromium`` through ``chromium-driver``.
Outside CI the test is skipped when the browser, the driver or selenium is
missing; with ``CI`` set, a missing browser is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import urllib.parse
import urllib.request

import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "examples")

CHROMIUM_NAMES = ("chromium", "chromium-browser")
WAIT_SECONDS = 15


def _executable(override: str | None, *names: str) -> str | None:
    """``override`` (a path from the environment) if given, else the first of
    ``names`` on PATH; ``None`` unless it is an executable file."""
    for candidate in [override] if override else names:
        path = shutil.which(candidate)
        if path is not None:
            return path
    return None


def _find_browser() -> tuple[str | None, str | None, str | None]:
    """(chromium, chromedriver, problem): paths, or why they are missing."""
    chromium = _executable(os.environ.get("CHROMIUM_BIN"), *CHROMIUM_NAMES)
    driver = _executable(os.environ.get("CHROMEDRIVER_BIN"), "chromedriver")
    missing = []
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip install selenium)")
    if chromium is None:
        missing.append("chromium (apt-get install chromium)")
    if driver is None:
        missing.append("chromedriver (apt-get install chromium-driver)")
    problem = "browser test needs " + ", ".join(missing) if missing else None
    return chromium, driver, problem


@pytest.fixture(scope="module")
def browser_paths():
    chromium, driver, problem = _find_browser()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{problem}; CI must install the browser")
        pytest.skip(problem)
    return chromium, driver


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """The notes app on http://127.0.0.1:<free port>, with a fresh instance
    folder, served from a daemon thread until the module's tests end."""
    from werkzeug.serving import make_server

    # examples/ is not installed; put it on sys.path only for the import.
    sys.path.insert(0, EXAMPLES)
    try:
        from notes import create_app
        from notes.db import init_db
    finally:
        sys.path.remove(EXAMPLES)

    instance = tmp_path_factory.mktemp("notes-instance")
    app = create_app(
        {
            "SECRET_KEY": "browser test key",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        },
        instance_path=str(instance),
    )
    with app.app_context():
        init_db()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def driver(browser_paths, tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, chromedriver = browser_paths
    profile = tmp_path_factory.mktemp("chromium-profile")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1200,900",
    ):
        options.add_argument(arg)
    browser = webdriver.Chrome(options=options, service=Service(chromedriver))
    browser.set_page_load_timeout(WAIT_SECONDS)
    browser.set_script_timeout(WAIT_SECONDS)
    try:
        yield browser
    finally:
        browser.quit()


def _wait(driver):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_SECONDS)


def _flash_texts(driver):
    from selenium.webdriver.common.by import By

    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".flash")]


def _fill(driver, form_id, **fields):
    from selenium.webdriver.common.by import By

    form = _wait(driver).until(
        lambda d: d.find_element(By.ID, form_id), f"form #{form_id} not shown"
    )
    for name, value in fields.items():
        box = form.find_element(By.NAME, name)
        box.clear()
        box.send_keys(value)
    return form


def _gone(element):
    """A wait condition: ``element`` has left the page. While the browser
    navigates, Chromium may answer for a node of the old document with an
    inspector error instead of a stale-element one; both mean it is gone."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.common.exceptions import WebDriverException

    def check(_driver):
        try:
            element.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as e:
            if "does not belong to the document" in str(e):
                return True
            raise
        return False

    return check


def _submit_and_wait(driver, form):
    """Submit ``form`` and wait until the browser has left its page."""

    form.find_element("css selector", "button[type=submit]").click()
    _wait(driver).until(_gone(form), "the form was not submitted")


def test_register_login_post_logout(driver, live_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    driver.get(live_server + "/")
    _wait(driver).until(EC.title_contains("Notes board"))
    assert "No notes yet." in driver.find_element(By.ID, "notes").text
    # The stylesheet really reached the browser and applies.
    body_bg = driver.find_element(By.TAG_NAME, "body").value_of_css_property(
        "background-color"
    )
    assert body_bg in ("rgba(245, 247, 250, 1)", "rgb(245, 247, 250)")

    # Register.
    driver.find_element(By.ID, "register-link").click()
    _wait(driver).until(EC.title_contains("Register"))
    form = _fill(
        driver,
        "register-form",
        username="grace",
        password="hopper-1906",
        confirm="hopper-1906",
    )
    _submit_and_wait(driver, form)
    _wait(driver).until(EC.title_contains("Log in"))
    assert _flash_texts(driver) == ["Account created. You can log in now."]

    # A wrong password is refused with a message.
    form = _fill(driver, "login-form", username="grace", password="not-her-password")
    _submit_and_wait(driver, form)
    _wait(driver).until(EC.presence_of_element_located((By.ID, "login-form")))
    assert _flash_texts(driver) == ["Incorrect username or password."]
    assert not driver.find_elements(By.ID, "current-user")

    # Log in.
    form = _fill(driver, "login-form", username="grace", password="hopper-1906")
    _submit_and_wait(driver, form)
    current = _wait(driver).until(
        EC.visibility_of_element_located((By.ID, "current-user"))
    )
    assert current.text == "grace"
    assert _flash_texts(driver) == ["Welcome, grace!"]

    # Post a note and see it listed.
    form = _fill(
        driver,
        "note-form",
        title="Compilers <3",
        body="The first bug was a moth.",
    )
    _submit_and_wait(driver, form)
    note = _wait(driver).until(
        EC.visibility_of_element_located((By.CSS_SELECTOR, "#notes .note"))
    )
    assert note.find_element(By.CLASS_NAME, "note-title").text == "Compilers <3"
    assert note.find_element(By.CLASS_NAME, "author").text == "grace"
    assert note.find_element(By.CLASS_NAME, "body").text == "The first bug was a moth."
    assert note.find_elements(By.CSS_SELECTOR, "button.danger")  # her own: deletable
    assert _flash_texts(driver) == ["Note posted."]

    # The JSON API sees the same note.
    with urllib.request.urlopen(live_server + "/api/notes", timeout=WAIT_SECONDS) as r:
        data = json.load(r)
    assert [(n["title"], n["author"]) for n in data["notes"]] == [
        ("Compilers <3", "grace")
    ]

    # Log out: the note stays on the board, the session is gone.
    logout = driver.find_element(By.ID, "logout")
    logout.click()
    _wait(driver).until(_gone(logout))
    _wait(driver).until(EC.presence_of_element_located((By.ID, "login-link")))
    assert _flash_texts(driver) == ["You have been logged out."]
    assert not driver.find_elements(By.ID, "current-user")
    assert not driver.find_elements(By.ID, "note-form")
    note = driver.find_element(By.CSS_SELECTOR, "#notes .note")
    assert note.find_element(By.CLASS_NAME, "note-title").text == "Compilers <3"
    assert not note.find_elements(By.CSS_SELECTOR, "button.danger")
    driver.get(live_server + "/api/me")
    _wait(driver).until(
        lambda d: '"user"' in d.find_element(By.TAG_NAME, "body").text,
        "/api/me did not load",
    )
    assert json.loads(driver.find_element(By.TAG_NAME, "body").text) == {"user": None}


def test_delete_own_note_in_the_browser(driver, live_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    driver.delete_all_cookies()
    driver.get(live_server + "/auth/register")
    form = _fill(
        driver,
        "register-form",
        username="linus",
        password="penguins!",
        confirm="penguins!",
    )
    _submit_and_wait(driver, form)
    form = _fill(driver, "login-form", username="linus", password="penguins!")
    _submit_and_wait(driver, form)
    _wait(driver).until(EC.visibility_of_element_located((By.ID, "current-user")))
    form = _fill(driver, "note-form", title="Short-lived", body="")
    _submit_and_wait(driver, form)

    def note_titled(title):
        for note in driver.find_elements(By.CSS_SELECTOR, "#notes .note"):
            if note.find_element(By.CLASS_NAME, "note-title").text == title:
                return note
        return None

    mine = _wait(driver).until(lambda d: note_titled("Short-lived"), "note not listed")
    # Only his own note has a delete button; grace's from the first test does not.
    others = note_titled("Compilers <3")
    if others is not None:
        assert not others.find_elements(By.CSS_SELECTOR, "button.danger")
    mine.find_element(By.CSS_SELECTOR, "button.danger").click()
    _wait(driver).until(_gone(mine))
    assert _flash_texts(driver) == ["Deleted 'Short-lived'."]
    assert note_titled("Short-lived") is None


def _register_and_login(driver, live_server, username, password):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    driver.delete_all_cookies()
    driver.get(live_server + "/auth/register")
    form = _fill(
        driver, "register-form", username=username, password=password, confirm=password
    )
    _submit_and_wait(driver, form)
    form = _fill(driver, "login-form", username=username, password=password)
    _submit_and_wait(driver, form)
    _wait(driver).until(EC.visibility_of_element_located((By.ID, "current-user")))


def _note_titles(driver):
    from selenium.webdriver.common.by import By

    return [
        e.text for e in driver.find_elements(By.CSS_SELECTOR, "#notes .note-title")
    ]


def test_note_sent_after_logging_out_in_another_tab_survives_login(
    driver, live_server
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    _register_and_login(driver, live_server, "margaret", "apollo-1969")
    board_tab = driver.current_window_handle
    _fill(driver, "note-form")  # the form is open in this tab

    # The session ends in another tab.
    driver.switch_to.new_window("tab")
    driver.get(live_server + "/")
    logout = _wait(driver).until(EC.element_to_be_clickable((By.ID, "logout")))
    logout.click()
    _wait(driver).until(EC.presence_of_element_located((By.ID, "login-link")))
    driver.close()
    driver.switch_to.window(board_tab)

    # The note typed in the first tab is sent: login page, the text kept.
    form = _fill(
        driver, "note-form", title="Lunar module", body="Priority displays work."
    )
    _submit_and_wait(driver, form)
    _wait(driver).until(EC.title_contains("Log in"))
    assert _flash_texts(driver) == [
        "Please log in again: your note is kept until you post it."
    ]
    form = _fill(driver, "login-form", username="margaret", password="apollo-1969")
    _submit_and_wait(driver, form)

    # After login: the board (not a 405), the form filled in with the note.
    _wait(driver).until(EC.visibility_of_element_located((By.ID, "draft-hint")))
    assert driver.current_url == live_server + "/"
    assert driver.find_element(By.ID, "title").get_attribute("value") == "Lunar module"
    assert (
        driver.find_element(By.ID, "body").get_attribute("value")
        == "Priority displays work."
    )
    assert "Lunar module" not in _note_titles(driver)
    _submit_and_wait(driver, driver.find_element(By.ID, "note-form"))
    _wait(driver).until(lambda d: "Lunar module" in _note_titles(d), "not posted")
    assert _flash_texts(driver) == ["Note posted."]
    assert not driver.find_elements(By.ID, "draft-hint")
    assert driver.find_element(By.ID, "title").get_attribute("value") == ""


def test_forged_forms_are_refused(driver, live_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    _register_and_login(driver, live_server, "alan", "enigma-1912")

    # A form whose token was tampered with: a styled 400 page, nothing posted.
    form = _fill(driver, "note-form", title="Forged on the page", body="")
    driver.execute_script(
        "arguments[0].querySelector('input[name=csrf_token]').value = 'forged'", form
    )
    _submit_and_wait(driver, form)
    _wait(driver).until(EC.title_contains("400 Bad Request"))
    error = driver.find_element(By.ID, "error")
    assert "This form has expired or was not sent from this site." in error.text
    assert error.find_element(By.CLASS_NAME, "error-code").text == "400"
    assert error.value_of_css_property("border-left-color") in (
        "rgb(179, 38, 30)",
        "rgba(179, 38, 30, 1)",
    )

    # Another site's page that posts to the board with the right token: the
    # browser does not send the SameSite=Lax session cookie with it.
    driver.get(live_server + "/")
    token = driver.find_element(By.NAME, "csrf_token").get_attribute("value")
    attack = (
        f'<form method="post" action="{live_server}/notes">'
        f'<input name="csrf_token" value="{token}">'
        '<input name="title" value="Forged from elsewhere"></form>'
        "<script>document.forms[0].submit()</script>"
    )
    driver.get("data:text/html," + urllib.parse.quote(attack))
    _wait(driver).until(EC.title_contains("400 Bad Request"))

    driver.get(live_server + "/")
    current = _wait(driver).until(
        EC.visibility_of_element_located((By.ID, "current-user"))
    )
    assert current.text == "alan"  # still signed in
    titles = _note_titles(driver)
    assert "Forged on the page" not in titles
    assert "Forged from elsewhere" not in titles
