"""Regenerate the golden expectations: `python -m tests.golden.regenerate [CASE...]`.

Each case is a stored page `<case>.html` (raw bytes, whatever their charset), its inputs in
cases.json (url, fetched_at, status, content_type, hints) and the expected `Extracted` as
`<case>.json`. Pages saved from the demo site are re-rendered through its generator API
(no HTTP). Review the diff before committing: a changed expectation is a behaviour change
and needs an EXTRACTOR_ID bump.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.extraction import ExtractionHints, extract
from storage.records import DatedValue, Extracted

GOLDEN = Path(__file__).parent
CASES = GOLDEN / "cases.json"
DEMO_BASE_URL = "http://127.0.0.1:8070"


def load_cases() -> dict[str, dict[str, Any]]:
    """Case name -> inputs."""
    cases: dict[str, dict[str, Any]] = json.loads(CASES.read_text())
    return cases


def run_case(name: str) -> Extracted:
    """Run the extractor over one stored golden page with its recorded inputs."""
    spec = load_cases()[name]
    hints = spec.get("hints") or {}
    return extract(
        (GOLDEN / f"{name}.html").read_bytes(),
        spec["url"],
        datetime.fromisoformat(spec["fetched_at"]),
        status=spec.get("status", 200),
        content_type=spec.get("content_type"),
        hints=ExtractionHints(**{k: datetime.fromisoformat(v) for k, v in hints.items()}),
    )


def _dated(value: DatedValue | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {
        "value": value.value.isoformat(),
        "source": value.source,
        "tz_offset_minutes": value.tz_offset_minutes,
    }


def as_json(result: Extracted) -> dict[str, Any]:
    """The comparable, JSON-ready form of an extraction (extractor_id left out on purpose)."""
    return {
        "state": str(result.state),
        "error": result.error,
        "title": result.title,
        "seo_title": result.seo_title,
        "authors": list(result.authors),
        "published": _dated(result.published),
        "modified": _dated(result.modified),
        "language": result.language,
        "categories": list(result.categories),
        "tags": list(result.tags),
        "description": result.description,
        "image": result.image,
        "sitename": result.sitename,
        "canonical_url": result.canonical_url,
        "extra": dict(sorted(result.extra.items())),
        "text": result.text,
    }


def save_demo_pages() -> None:
    """Render one article and one listing page per demo-site layout into golden cases."""
    from crawler.demo_site import make_sites, render_page

    cases = load_cases()
    for site in make_sites(categories=2, articles_per_category=4):
        site.set_base_url(DEMO_BASE_URL)
        article = site.articles()[0]
        for kind, path in (
            ("article", article.path),
            ("listing", site.layout.category_path(article.category, 1)),
        ):
            page = render_page(site, path)
            name = f"demo_{site.key}_{kind}"
            (GOLDEN / f"{name}.html").write_bytes(page.body)
            cases[name] = {
                "url": DEMO_BASE_URL + path,
                "fetched_at": site.now().isoformat(),
                "status": page.status,
                "content_type": page.content_type,
            }
    CASES.write_text(json.dumps(cases, indent=1, sort_keys=True) + "\n")


def main(names: list[str]) -> None:
    """Re-render demo pages and rewrite the expected JSON of `names` (all when empty)."""
    if not names:
        save_demo_pages()
    for name in names or sorted(load_cases()):
        expected = as_json(run_case(name))
        path = GOLDEN / f"{name}.json"
        path.write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")
        print(f"{name}: {expected['state']} {expected['title']!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
