"""Golden files for crawler.extraction: stored pages, their inputs and the expected output."""
