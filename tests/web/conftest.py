"""Fixtures for the review console: an app on a fresh database, accounts per role, seeded jobs,
and for browser tests a real uvicorn server and Debian's chromium.

Media is synthetic: high-contrast noise and checkerboards made with numpy, so that "blurred"
is measurable (little high-frequency energy) and nothing real is ever involved.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import uvicorn
from fastapi.testclient import TestClient
from PIL import Image

from brightline.accounts import AccountRole, create_account
from brightline.evidence import EvidenceStore
from brightline.http import create_app
from brightline.review import ContentFacts, FlagMatch, SubjectRef, flag_content
from brightline.settings import ServiceSettings, Settings
from brightline.storage import create_engine_for, session_factory, upgrade_database
from tests.legal.smtp import Inbox, smtp_server

PASSWORD = "correct horse battery staple"  # noqa: S105  (a test account)
NAMES = {role: f"test-{role.value}" for role in AccountRole}


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        home=tmp_path / "home",
        database_url=database_url,
        service=ServiceSettings(index_sync_seconds=0.5, auth_cache_seconds=0.0),
    )


def synthetic_png(seed: int, size: int = 256) -> bytes:
    """A high-frequency test card: random colour noise over a fine checkerboard."""
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8)
    checker = ((np.indices((size, size)).sum(axis=0) // 2) % 2 * 255).astype(np.uint8)
    noise[..., 0] = checker
    out = io.BytesIO()
    Image.fromarray(noise, "RGB").save(out, format="PNG")
    return out.getvalue()


@dataclass
class Seeded:
    job_ids: list[int]
    item_ids: list[int]
    subject_id: int


def seed_jobs(settings: Settings, count: int = 2, *, grouped: bool = False) -> Seeded:
    """``count`` flagged images for one placeholder platform user: each its own job, or with
    ``grouped`` one near-duplicate group (the same PDQ hash) that is decided once."""
    engine = create_engine_for(settings.database_url)
    upgrade_database(engine)
    store = EvidenceStore.from_settings(settings)
    job_ids, item_ids = [], []
    subject_id = 0
    shared_pdq = secrets.token_hex(32)
    with session_factory(engine).begin() as session:
        for index in range(count):
            data = synthetic_png(index)
            flagged = flag_content(
                session=session,
                subject=SubjectRef(
                    service="example-service",
                    platform_user_id="user-0001",
                    screen_name="placeholder_user",
                ),
                content=ContentFacts(
                    sha256=secrets.token_hex(32),
                    media_type="image/png",
                    pdq=shared_pdq if grouped else secrets.token_hex(32),
                    media_ref=store.put(data),
                ),
                matches=[
                    FlagMatch(
                        signal_type="pdq",
                        bank_id=1,
                        bank_name="test-bank",
                        entry_id=100 + index,
                        distance=4,
                        classification="A1",
                    )
                ],
                source="upload",
            )
            job_ids.append(flagged.job.id)
            item_ids.append(flagged.item.id)
            subject_id = flagged.case.subject_id
    engine.dispose()
    return Seeded(job_ids=job_ids, item_ids=item_ids, subject_id=subject_id)


@pytest.fixture
def accounts(settings: Settings) -> dict[AccountRole, str]:
    """One account per role (password ``PASSWORD``), created before the app starts."""
    engine = create_engine_for(settings.database_url)
    upgrade_database(engine)
    with session_factory(engine).begin() as session:
        for role, name in NAMES.items():
            create_account(
                session=session, username=name, password=PASSWORD, role=role, actor="test"
            )
    engine.dispose()
    return NAMES


@pytest.fixture
def seeded(settings: Settings, accounts: dict[AccountRole, str]) -> Seeded:
    return seed_jobs(settings)


@pytest.fixture
def client(settings: Settings, accounts: dict[AccountRole, str]) -> Iterator[TestClient]:
    with TestClient(create_app(settings), follow_redirects=False) as test_client:
        yield test_client


_HIDDEN = re.compile(r'name="(csrf_token|form_key|lock_token|login_token)" value="([^"]*)"')


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of the first form on a page that has them (last value wins per name
    is wrong for pages with several forms, so the first occurrence of each is kept)."""
    found: dict[str, str] = {}
    for name, value in _HIDDEN.findall(html):
        found.setdefault(name, value)
    return found


def form_fields(html: str, action: str) -> dict[str, str]:
    """The hidden inputs of the form posting to ``action``."""
    start = html.index(f'action="{action}"')
    end = html.index("</form>", start)
    return dict(_HIDDEN.findall(html[start:end]))


def login(client: TestClient, username: str, password: str = PASSWORD) -> TestClient:
    page = client.get("/console/login")
    token = hidden_fields(page.text)["login_token"]
    answer = client.post(
        "/console/login",
        data={"username": username, "password": password, "login_token": token},
    )
    assert answer.status_code == 303, answer.text
    return client


def seed_video(settings: Settings, tmp_path: Path) -> Seeded:
    """One flagged synthetic video (moving shapes over noise, VP8 WebM), its own job."""
    from tests.video_factories import synthetic_frames, write_video

    path = write_video(
        tmp_path / "synthetic.webm",
        synthetic_frames(seed=7, width=128, height=96, fps=10, seconds=2),
        fps=10,
        codec="libvpx",
    )
    engine = create_engine_for(settings.database_url)
    upgrade_database(engine)
    store = EvidenceStore.from_settings(settings)
    with session_factory(engine).begin() as session:
        flagged = flag_content(
            session=session,
            subject=SubjectRef(service="example-service", platform_user_id="user-0002"),
            content=ContentFacts(
                sha256=secrets.token_hex(32),
                media_type="video/webm",
                media_ref=store.put_file(path),
            ),
            matches=[FlagMatch(signal_type="vpdq", bank_id=1, bank_name="test-bank", entry_id=9)],
            source="upload",
        )
        seeded = Seeded([flagged.job.id], [flagged.item.id], flagged.case.subject_id)
    engine.dispose()
    return seeded


# --- browser tests: a real server on loopback and Debian's chromium --------------------------

CHROMIUM = Path(os.environ.get("BRIGHTLINE_CHROMIUM", "/usr/bin/chromium"))


@pytest.fixture
def base_url(settings: Settings, accounts: dict[AccountRole, str]) -> Iterator[str]:
    """``create_app(settings)`` served by uvicorn in a thread, on a loopback port."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings), log_level="warning", ws="none", lifespan="on", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]})
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                pytest.fail("uvicorn did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """A loopback SMTP server the portal mails sign-in codes through. Request it before
    ``base_url``: the app reads the relay from the environment when it is built."""
    with smtp_server() as (running, port):
        monkeypatch.setenv("BRIGHTLINE_PORTAL_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("BRIGHTLINE_PORTAL_SMTP_PORT", str(port))
        monkeypatch.setenv("BRIGHTLINE_PORTAL_SMTP_TLS", "none")
        monkeypatch.setenv("BRIGHTLINE_PORTAL_SMTP_SENDER", "portal@platform.example")
        yield running


@pytest.fixture
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            yield launched
        finally:
            launched.close()


def screenshot(page: object, name: str) -> None:
    """With ``BRIGHTLINE_SCREENSHOTS=<dir>``, save ``console-<name>.png`` there (for the docs)."""
    folder = os.environ.get("BRIGHTLINE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"console-{name}.png"), full_page=True)  # type: ignore[attr-defined]


def sign_in(browser: object, base_url: str, role: AccountRole) -> object:
    """A new browser context signed in as the test account of ``role``; its page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{base_url}/console/login")
    page.fill("input[name=username]", NAMES[role])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    return page
