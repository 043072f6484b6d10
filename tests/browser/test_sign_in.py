"""Signing in and out of the dashboard with the Django session."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import PASSWORD, sign_in

pytestmark = pytest.mark.browser


def test_a_wrong_password_is_refused_and_the_right_one_opens_the_page_asked_for(
    page: Page,
) -> None:
    page.goto("/workers")
    page.get_by_label("Username").fill("pat")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("The username or password is not right.")).to_be_visible()

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/workers$"))
    expect(page.get_by_text("editor", exact=True)).to_be_visible()


def test_signing_out_returns_to_the_sign_in_form(page: Page) -> None:
    sign_in(page, "vic")

    page.get_by_role("button", name="Sign out").click()

    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.reload()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
