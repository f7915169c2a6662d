"""Open data in a real browser: the download page passes axe-core and its links download files."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path

from playwright.async_api import Page, expect

from registry.core import clock
from registry.register import service
from tests.browser.axe import assert_accessible
from tests.browser.conftest import People, assert_reflows, unique


async def test_the_download_page_explains_the_files_and_they_download(
    page: Page, people: People
) -> None:
    family = unique("Pritchard").replace("-", "")
    with people.bound():
        entry = await service.create_entry(
            service.EntryIn(
                person=service.PersonIn("Gwen", family, date(1981, 9, 14)),
                role_codes=["probation_officer"],
                region_code="east_midlands",
                registered_since=date(2016, 1, 4),
                registered_until=date(2027, 11, 30),
            ),
            reason="Browser test",
        )

    await page.goto("/register")
    await page.get_by_role("link", name="download the whole register").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Download the register")
    await expect(page.get_by_role("table", name="Columns of the CSV file")).to_contain_text(
        "registration_number"
    )
    await expect(
        page.get_by_role("table", name="Fields of each entry in the JSON file")
    ).to_contain_text("status_label")
    await assert_accessible(page)
    await assert_reflows(page)

    today = clock.now().date().isoformat()
    async with page.expect_download() as csv_download:
        await page.get_by_role("link", name="Download the register as CSV").click()
    assert (await csv_download.value).suggested_filename == f"probation-register-{today}.csv"
    text = await _read(await (await csv_download.value).path())
    assert text.startswith("registration_number,given_names,family_name,roles,region,status,")
    row = f"{entry.registration_number},Gwen,{family},Probation Officer,East Midlands,registered"
    assert row in text
    assert "1981-09-14" not in text

    async with page.expect_download() as json_download:
        await page.get_by_role("link", name="Download the register as JSON").click()
    assert (await json_download.value).suggested_filename == f"probation-register-{today}.json"
    document = json.loads(await _read(await (await json_download.value).path()))
    numbers = [item["registration_number"] for item in document["entries"]]
    assert entry.registration_number in numbers


async def _read(path: Path) -> str:
    return await asyncio.to_thread(path.read_text, encoding="utf-8")
