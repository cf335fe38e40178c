"""`python -m crawler` runs the newsarchive CLI."""

from crawler.cli import main

main()
