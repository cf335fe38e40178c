"""The web UI's routes in-process (Starlette TestClient) on SQLite and PostgreSQL.

What a user of the browser or of the JSON API sees: pages, escaping, one-line 4xx errors,
the token, the sandboxed raw capture and the WARC record download.
"""

from __future__ import annotations

import csv
import gzip
import html as htmllib
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from crawler.web import create_app
from crawler.web.security import is_loopback
from storage.db import Archive
from storage.models import CrawlRun
from tests.configs import write_config
from tests.factories import T0, later
from tests.query_support import Built, build, filler

URL = "https://ledger.example/2024/05/01/flood/"
ORIGINAL = "The harbour wall will be raised by two metres, the council said.\n\n" + filler(1)
EDITED = "The harbour wall will be raised by three metres, the council said.\n\n" + filler(1)
EVIL = '<script>alert("x")</script>'


@pytest.fixture
def archive(db_url: str, tmp_path: Path) -> Built:
    b = build(db_url, tmp_path)
    b.add(URL, "Council approves flood defence", ORIGINAL)
    b.add(URL + "?utm_source=x", "Council approves flood defence", ORIGINAL, at=later(1))
    b.add(
        URL,
        "Council approves bigger flood defence",
        EDITED,
        at=later(6),
        seo_title="Flood defence: council backs a taller wall",
    )
    b.add(
        "https://ledger.example/2024/05/02/evil/",
        f"Harbour {EVIL} news",
        "The harbour <b>party</b> & more. " + filler(2),
        html_text='Harbour text<script>document.title="pwned"</script>',
    )
    for i in range(25):
        b.add(
            f"https://courier.example/2024/06/{i:02d}/storm/",
            f"Storm number {i}",
            f"Storm over the harbour, part {i}. " + filler(10 + i),
            site="courier",
            language="de",
            published=later(48 * (i + 1)),  # 14 in November, 11 in December
        )
    with Archive(b.url) as a, a.session() as s:
        s.add(
            CrawlRun(
                site="ledger",
                trigger="manual",
                started_at=T0,
                finished_at=later(1),
                status="ok",
                stats={"pages": 12, "articles": {"new": 3}, "errors": {"http_503": 2}},
            )
        )
    return b


@pytest.fixture
def client(archive: Built) -> Iterator[TestClient]:
    app = create_app(archive.url, warc_dir=archive.warc.directory)
    with TestClient(app) as c:
        yield c


def _one_line(html: str) -> str:
    start = html.index('class="error" role="alert">') + len('class="error" role="alert">')
    return htmllib.unescape(html[start : html.index("</p>", start)])


def test_home_lists_sites_with_counts_last_run_and_a_chart(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "ledger" in r.text and "courier" in r.text
    assert "<svg" in r.text and "articles</title>" in r.text
    data = client.get("/api/").json()
    by_site = {s["site"]: s for s in data["sites"]}
    assert by_site["courier"]["articles"] == 25 and by_site["ledger"]["articles"] == 2
    assert by_site["ledger"]["versions"] == 3
    assert by_site["ledger"]["last_run"]["status"] == "ok"
    published = [T0, T0] + [later(48 * (i + 1)) for i in range(25)]
    by_day = Counter(p.date().isoformat() for p in published)
    chart = data["per_day"]
    assert len(chart) == 30 and chart[-1]["count"] > 0
    assert all(d["count"] == by_day.get(d["day"], 0) for d in chart)


def test_search_highlights_facets_and_pages(client: TestClient) -> None:
    r = client.get("/search", params={"q": "storm harbour"})
    assert r.status_code == 200
    assert "<mark>" in r.text and "25</strong> articles match" in r.text
    assert "page 1 of 2" in r.text and 'rel="next"' in r.text
    assert "/search/export?q=storm+harbour&amp;format=csv" in r.text
    data = client.get(
        "/search", params={"q": "storm", "page": 2}, headers={"Accept": "application/json"}
    ).json()
    assert data["total"] == 25 and len(data["hits"]) == 5
    assert data["facets"]["site"] == [{"value": "courier", "count": 25}]
    assert data["facets"]["language"] == [{"value": "de", "count": 25}]
    months = {f["value"]: f["count"] for f in data["facets"]["month"]}
    assert months == {"2026-11": 14, "2026-12": 11}


def test_search_filters_by_site_and_month(client: TestClient) -> None:
    data = client.get(
        "/api/search",
        params={"q": "harbour", "site": "courier", "since": "2026-12", "until": "2026-12"},
    ).json()
    assert data["total"] == 11 and {h["site"] for h in data["hits"]} == {"courier"}
    assert all(h["published_at"].startswith("2026-12") for h in data["hits"])


def test_export_streams_every_match_as_csv_and_jsonl(client: TestClient) -> None:
    r = client.get("/search/export", params={"q": "storm", "format": "jsonl"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    rows = [json.loads(line) for line in r.text.splitlines()]
    assert len(rows) == 25 and {row["site"] for row in rows} == {"courier"}
    csv_text = client.get("/search/export", params={"q": "flood", "format": "csv"}).text
    table = list(csv.DictReader(csv_text.splitlines(keepends=True)))
    assert [row["title"] for row in table] == ["Council approves bigger flood defence"]


def test_article_page_has_versions_urls_and_captures(client: TestClient) -> None:
    r = client.get("/articles/1")
    assert r.status_code == 200
    assert "Council approves bigger flood defence" in r.text
    assert "/articles/1/diff?from=1&amp;to=2" in r.text
    assert "utm_source=x" in r.text  # the URL variant
    # The headline readers saw is the title; the metadata (SEO) title is shown beside it.
    assert "Metadata title" in r.text and "council backs a taller wall" in r.text
    data = client.get("/articles/1", headers={"Accept": "application/json"}).json()
    assert [v["n"] for v in data["versions"]] == [1, 2]
    assert data["article"]["seo_title"] == "Flood defence: council backs a taller wall"
    assert data["published_source"] == "json-ld"
    assert len(data["captures"]) == 3
    assert data["versions"][1]["chars_added"] > 0


def test_diff_marks_words_with_ins_del_and_steps(client: TestClient) -> None:
    r = client.get("/articles/1/diff", params={"from": 1, "to": 2})
    assert r.status_code == 200
    assert "<del>" in r.text and "two" in r.text and "<ins>" in r.text
    assert '<span class="sign" aria-hidden="true">+</span>three' in r.text
    assert r.text.index("Title changed") < r.text.index("Inline")  # title first
    data = client.get("/api/articles/1/diff").json()
    assert data["old"]["n"] == 1 and data["new"]["n"] == 2
    assert {"kind": "insert", "text": "bigger "} in data["title"]
    assert data["step"] == {"prev": None, "next": None}


def test_archived_values_are_escaped(client: TestClient) -> None:
    hits = client.get("/search", params={"q": "party"})
    assert EVIL not in hits.text and "&lt;script&gt;" in hits.text
    page = client.get("/articles/2")
    assert EVIL not in page.text and "&lt;script&gt;alert" in page.text
    assert "<b>party</b>" not in page.text and "&lt;b&gt;party&lt;/b&gt;" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_raw_capture_is_sandboxed_and_warc_record_downloads(
    client: TestClient, archive: Built
) -> None:
    capture_id = client.get("/api/articles/2").json()["captures"][0]["id"]
    raw = client.get(f"/captures/{capture_id}/raw")
    assert raw.status_code == 200 and raw.content == archive.payloads[capture_id]
    csp = raw.headers["content-security-policy"]
    assert csp.startswith("sandbox;") and "default-src 'none'" in csp and "allow-scripts" not in csp
    assert raw.headers["x-content-type-options"] == "nosniff"
    record = client.get(f"/captures/{capture_id}/warc")
    assert record.headers["content-type"] == "application/warc"
    text = gzip.decompress(record.content)
    assert text.startswith(b"WARC/1.1") and archive.payloads[capture_id] in text
    page = client.get(f"/captures/{capture_id}")
    assert "Content-Type" in page.text and "test/1" in page.text


def test_runs_list_and_one_run(client: TestClient) -> None:
    r = client.get("/runs")
    assert r.status_code == 200 and "http_503 2" in r.text
    run = client.get("/api/runs/1").json()
    assert run["status"] == "ok" and run["stats"]["errors"] == {"http_503": 2}


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/articles/999", 404, "no article 999 in the archive"),
        ("/articles/abc", 400, "article id must be a whole number, not 'abc'"),
        ("/articles/1/diff?from=1&to=7", 400, "article 1 has versions 1..2, not 7"),
        ("/search?q=storm&since=yesterday", 400, "bad date 'yesterday'"),
        ("/search?q=storm&page=99999999", 400, "page must be at most 500"),
        ("/search?q=storm&page=3", 404, "page 3 does not exist"),
        ("/search?q=%22unclosed", 400, "unbalanced quote"),
        ("/search?q=storm&sort=random", 400, "sort must be relevance or date"),
        ("/captures/12345", 404, "no capture 12345"),
        ("/runs/77", 404, "no crawl run 77"),
        ("/search/export?q=storm&format=xml", 400, "format must be csv or jsonl"),
        ("/nowhere", 404, "no page at /"),
    ],
)
def test_bad_input_is_a_4xx_with_one_line(
    client: TestClient, path: str, status: int, message: str
) -> None:
    r = client.get(path)
    assert r.status_code == status
    assert message in _one_line(r.text) and "Traceback" not in r.text
    api = client.get(
        "/api" + path if not path.startswith("/search/") else path,
        headers={"Accept": "application/json"},
    )
    assert api.status_code == status and message in api.json()["error"]


def test_writes_are_refused(client: TestClient) -> None:
    assert client.post("/search", data={"q": "x"}).status_code == 405


def test_token_is_required_for_every_request_when_set(archive: Built) -> None:
    app = create_app(archive.url, warc_dir=archive.warc.directory, token="s3cret-token")
    with TestClient(app) as c:
        assert c.get("/").status_code == 401
        assert c.get("/api/articles/1").status_code == 401
        assert c.get("/", headers={"Authorization": "Bearer wrong-token"}).status_code == 401
        assert c.get("/", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
        first = c.get("/articles/1?token=s3cret-token", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"] == "/articles/1"
        assert "httponly" in first.headers["set-cookie"].lower()
        assert c.get("/articles/1").status_code == 200  # the cookie now carries it


def test_serve_refuses_a_public_bind_without_token(tmp_path: Path) -> None:
    from tests.crawling import run_cli

    proc = run_cli(
        "--db", f"sqlite:///{tmp_path / 'a.db'}", "serve", "--host", "0.0.0.0", check=False
    )
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "set --token (or NEWSARCHIVE_TOKEN)" in proc.stderr
    assert is_loopback("127.0.0.1") and is_loopback("::1") and not is_loopback("0.0.0.0")


def test_home_shows_the_next_scheduled_crawl(archive: Built, tmp_path: Path) -> None:
    from crawler.cli import AppContext
    from crawler.cli.serve import next_fires_from_config

    site = {"key": "ledger", "start_urls": ["https://ledger.example/"]}
    config = write_config(
        tmp_path, {"database_url": archive.url}, [{**site, "schedule": "every 30 minutes"}]
    )
    fires = next_fires_from_config(AppContext(str(config), None))
    app = create_app(archive.url, warc_dir=archive.warc.directory, next_fires=fires)
    with TestClient(app) as c:
        sites = {s["site"]: s for s in c.get("/api/").json()["sites"]}
    when = datetime.fromisoformat(sites["ledger"]["next_fire"])
    assert timedelta(0) < when - datetime.now(UTC) <= timedelta(minutes=30)
    assert sites["courier"]["next_fire"] is None  # crawled by hand only
