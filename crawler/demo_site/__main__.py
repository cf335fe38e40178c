"""`python -m crawler.demo_site --port 8000`: serve both demo sites until Ctrl-C."""

from __future__ import annotations

import argparse
import time

from crawler.demo_site import make_sites, serve


def main(argv: list[str] | None = None) -> int:
    """Serve the demo sites and print their URLs; optionally advance a round every N seconds."""
    parser = argparse.ArgumentParser(prog="python -m crawler.demo_site", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="first port (0: any free ports)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--categories", type=int, default=4)
    parser.add_argument("--articles-per-category", type=int, default=30)
    parser.add_argument("--page-size", type=int, default=10)
    parser.add_argument(
        "--advance-every", type=float, default=0, help="seconds between rounds (0: never)"
    )
    args = parser.parse_args(argv)
    sites = make_sites(
        seed=args.seed,
        categories=args.categories,
        articles_per_category=args.articles_per_category,
        page_size=args.page_size,
    )
    server = serve(*sites, host=args.host, port=args.port)
    for site in sites:
        print(f"{site.name}: {server.url[site.key]}/", flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    try:
        while True:
            if args.advance_every > 0:
                time.sleep(args.advance_every)
                print(f"round {server.advance()}", flush=True)
            else:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
