"""Pins for the few library internals newsarchive cannot avoid.

Each private hook is used in exactly one small adapter; these tests fail loudly (naming the
adapter) when a library upgrade moves the hook, instead of a scheduler or crawl misbehaving.
"""

from __future__ import annotations

import inspect

import pytest
from apscheduler.executors.base import BaseExecutor
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from lxml.html import HtmlElement

from schedules.scheduler import FireTimeExecutor, _Scheduler


def test_apscheduler_submits_jobs_through_do_submit_job() -> None:
    # schedules.scheduler.FireTimeExecutor: the only way to see a fire's planned run time.
    params = list(inspect.signature(BaseExecutor._do_submit_job).parameters)
    assert params == ["self", "job", "run_times"]
    assert "_do_submit_job" in inspect.getsource(BaseExecutor.submit_job)
    assert FireTimeExecutor._do_submit_job is not BaseExecutor._do_submit_job


def test_apscheduler_wakeups_run_process_jobs() -> None:
    # schedules.scheduler._Scheduler: no job submitted once shutdown has begun.
    assert list(inspect.signature(BaseScheduler._process_jobs).parameters) == ["self"]
    assert "self._process_jobs()" in inspect.getsource(BlockingScheduler._main_loop)
    assert _Scheduler._process_jobs is not BaseScheduler._process_jobs


def test_scrapy_downloader_slots_are_where_crawler_internals_looks() -> None:
    # crawler.internals: download_slot, raise_slot_delay, hold_slot_until, drain_slot.
    from scrapy.core.downloader import Downloader, Slot

    init = inspect.getsource(Downloader.__init__)
    assert "self.slots" in init
    assert "self.per_slot_settings" in init
    assert "self.middleware" in init
    slot = Slot(concurrency=1, delay=0.5)
    assert hasattr(slot, "queue") and hasattr(slot, "lastseen") and hasattr(slot, "delay")
    # The downloader sends a slot's next request at lastseen + delay, from slot.queue.
    source = inspect.getsource(Downloader)
    assert "slot.lastseen" in source and "slot.queue.popleft()" in source


def test_scrapy_robots_middleware_keeps_parsers_by_netloc() -> None:
    # crawler.internals.robots_parser (the Crawl-delay of a parsed robots.txt).
    from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware

    assert "self._parsers" in inspect.getsource(RobotsTxtMiddleware.__init__)
    assert "self._parsers[netloc]" in inspect.getsource(RobotsTxtMiddleware)


def test_process_pool_keeps_its_processes() -> None:
    # crawler.internals.terminate_workers: the only way to end a hung worker.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from crawler import internals

    # forkserver, as the crawl's pool: a forked worker would inherit this test process's
    # signal handlers, and a crawl run in-process earlier leaves a SIGTERM handler behind.
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("forkserver"))
    try:
        assert pool.submit(abs, -1).result(timeout=30) == 1
        procs = list(pool._processes.values())  # type: ignore[attr-defined]
        assert procs and all(p.is_alive() for p in procs)
        internals.terminate_workers(pool)
        for p in procs:
            p.join(10)
        assert not any(p.is_alive() for p in procs)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def test_lxml_html_element_classes_are_where_crawler_internals_looks() -> None:
    # crawler.internals.html_element_classes: the classes lxml.html's parser gives by tag.
    import lxml.html
    from lxml.html import HtmlElementClassLookup

    from crawler import internals

    classes = internals.html_element_classes()
    assert classes == {
        "form": lxml.html.FormElement,
        "input": lxml.html.InputElement,
        "select": lxml.html.SelectElement,
        "textarea": lxml.html.TextareaElement,
        "label": lxml.html.LabelElement,
    }
    lookup = HtmlElementClassLookup()
    for tag, cls in classes.items():
        assert lookup.lookup("element", None, None, tag) is cls


_PAGES = [
    "<html><head><title>T</title></head><body><p>Text</p></body></html>",
    "<!DOCTYPE html/>\n<html><body><p>slash in the doctype</p></body></html>",
    '<!doctype html>\n<html lang="en"/>\n<head></head><body><p>self-closing html</p></body>',
    "<html><body><p>control\x00 chars\x0b and \ufffe non-characters\x1f</p></body></html>",
    '<?xml version="1.0" encoding="utf-8"?><html><body><p>declared</p></body></html>',
    "<p>a fragment</p>",
    "just text, no markup",
    "<html></html>",
    "<div><p>one</p></div><div><p>two</p></div>",
    "<html><body><form action='/s'><label for='q'>Q</label><input name='q'>"
    "<select><option>a</option></select><textarea>t</textarea></form>"
    "<!-- a comment --><?pi x?><p>&amp; &nbsp; caf\u00e9 \U0001f600</p></body></html>",
]


@pytest.mark.parametrize("text", _PAGES)
def test_parse_html_is_trafilaturas_load_html(text: str) -> None:
    # crawler.internals.repair_html: crawler.extraction.parsing mirrors trafilatura's
    # load_html (its repairs, parser settings, fallbacks and rejection of non-HTML) with
    # a faster element class lookup. Same tree, same element classes, or both None.
    from lxml import etree
    from trafilatura.utils import load_html

    from crawler.extraction.parsing import parse_html

    theirs, ours = load_html(text), parse_html(text)
    assert (theirs is None) == (ours is None)
    if theirs is not None and ours is not None:
        assert etree.tostring(ours) == etree.tostring(theirs)
        assert [type(el) for el in ours.iter()] == [type(el) for el in theirs.iter()]


@pytest.mark.parametrize(
    "options",
    [
        {"favor_precision": True, "include_comments": False, "include_tables": True},
        {"favor_recall": True, "include_comments": False},
        {"include_comments": True, "include_formatting": True, "include_links": True},
        {"favor_precision": True, "prune_xpath": "//aside"},  # not mirrored: bare_extraction
    ],
    ids=["default", "recall", "balanced-comments", "prune-xpath"],
)
def test_body_consume_is_bare_extractions_text(options: dict[str, object]) -> None:
    # crawler.extraction.body.consume runs bare_extraction's steps (trafilatura_sequence,
    # its size checks, xmltotxt) on the tree itself, without bare_extraction's tree copy.
    import trafilatura

    from crawler.extraction.body import consume
    from crawler.extraction.parsing import parse_html
    from tests.extraction_benchmark import dataset_dir, ground_truth, page

    directory = dataset_dir()
    if directory is None:
        from tests.conftest import IN_CI

        if IN_CI:
            pytest.fail("article-extraction-benchmark dataset missing (set NEWSARCHIVE_DATASETS)")
        pytest.skip("article-extraction-benchmark dataset not present")
    pages = [
        (page(directory, pid).decode("utf-8", "replace"), truth["url"])
        for pid, truth in sorted(ground_truth(directory).items())[:40]
    ]
    pages += [(p, "https://example.org/a") for p in _PAGES]
    for text, url in pages:
        tree = parse_html(text)
        if tree is None:
            continue
        document = trafilatura.bare_extraction(tree, url=url, output_format="python", **options)
        assert consume(tree, url, dict(options)) == (getattr(document, "text", None) or None)


def test_repair_html_deletes_the_characters_trafilatura_deletes() -> None:
    # crawler.internals._INVALID_XML_CHARS: the precheck's characters are the regex's class.
    from trafilatura.utils import INVALID_XML_CHARS

    from crawler import internals

    every_char = "".join(map(chr, range(0x110000)))
    assert tuple(INVALID_XML_CHARS.findall(every_char)) == internals._INVALID_XML_CHARS


_REPAIRED = [
    *_PAGES,
    "<!DOCTYPE html/><html><body><p>a slash in a doctype on the only line</p></body></html>",
    "<!DOCTYPE html/>\n<html/>\n<body><p>both</p></body>",
    "\n\n\n\n<html/>\n<body><p>a self-closing html on the fifth line</p></body>",
    "<html lang='en'\n/>\n<body><p>a self-closing html over two lines</p></body>",
    *(f"<!DOCTYPE html/>\n<html/>\n<p>one control: {c}</p>" for c in map(chr, range(0x20))),
    "<html><body><p>non-characters \ufffe\uffff only</p></body></html>",
    "<html><body><p>caf\u00e9 \u4e2d\u6587 \U0001f600, a NUL in a wide page\x00</p></body></html>",
    "<html><body><p>caf\u00e9 \u4e2d\u6587 \U0001f600, nothing to repair</p></body></html>",
]


@pytest.mark.parametrize("text", _REPAIRED)
def test_repair_html_is_trafilaturas_repair_faulty_html(text: str) -> None:
    # crawler.internals.repair_html skips trafilatura's regex on pages without control
    # characters and then applies its other repairs itself.
    from trafilatura.utils import repair_faulty_html

    from crawler import internals

    beginning = text[:50].lower()
    assert internals.repair_html(text, beginning) == repair_faulty_html(text, beginning)


def test_repair_faulty_html_has_the_repairs_repair_html_mirrors() -> None:
    # A repair added to (or removed from) trafilatura's function must be mirrored in
    # crawler.internals.repair_html: its body, as trafilatura 2.x writes it.
    from trafilatura.utils import repair_faulty_html

    code = [line.strip() for line in inspect.getsource(repair_faulty_html).splitlines()]
    assert [line for line in code if line and not line.startswith(("#", '"'))] == [
        "def repair_faulty_html(htmlstring: str, beginning: str) -> str:",
        'htmlstring = INVALID_XML_CHARS.sub("", htmlstring)',
        'if "doctype" in beginning:',
        'firstline, _, rest = htmlstring.partition("\\n")',
        'htmlstring = DOCTYPE_TAG.sub("", firstline, count=1) + "\\n" + rest',
        "for line in htmlstring[:4096].splitlines()[:4]:",
        'if "<html" in line and line.endswith("/>"):',
        'htmlstring = FAULTY_HTML.sub(r"\\1>", htmlstring, count=1)',
        "break",
        "return htmlstring",
    ]


def _trees_with_bodies() -> list[HtmlElement]:
    from crawler.extraction.parsing import parse_html

    trees = [tree for text in _PAGES if (tree := parse_html(text)) is not None]
    # Made-up trees the parser does not build: a body inside an earlier child, two bodies,
    # a body as the root, no body at all.
    nested = parse_html("<html><head></head><body id='second'><div></div></body></html>")
    assert nested is not None
    nested[0].append(nested.makeelement("body", id="in-head"))
    nested[1][0].append(nested.makeelement("body", id="inner"))
    return [*trees, nested, nested[1], nested[1][0], nested[0][0]]


@pytest.mark.parametrize("tree", _trees_with_bodies())
def test_find_body_is_lxmls_find_of_the_first_body(tree: HtmlElement) -> None:
    # crawler.extraction.parsing.find_body: what tree.find(".//body") finds, without
    # lxml's walk of the rest of the page.
    from crawler.extraction.parsing import find_body

    assert find_body(tree) is tree.find(".//body")
