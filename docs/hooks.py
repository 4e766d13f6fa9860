"""MkDocs hooks: pages and files the site gets from the code and the benchmark records.

- ``reference/config.md`` is generated at build time from the config dataclasses
  (``gen_reference.config_page``), so it can never go stale;
- the images under ``benchmarks/results/`` are served under ``results/`` (the benchmark pages
  link them as ``../results/...``) without copying them into ``docs/``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from mkdocs.structure.files import File, Files

DOCS = Path(__file__).resolve().parent
BENCHMARKS = DOCS.parent / "benchmarks"
IMAGE_SUFFIXES = {".png", ".gif", ".jpg", ".svg"}


def _gen_reference():
    spec = importlib.util.spec_from_file_location("gen_reference", DOCS / "gen_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def on_files(files: Files, config) -> Files:
    files.append(File.generated(config, "reference/config.md", content=_gen_reference().config_page()))
    for path in sorted((BENCHMARKS / "results").rglob("*")):
        if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
            rel = path.relative_to(BENCHMARKS).as_posix()
            files.append(File(rel, src_dir=str(BENCHMARKS), dest_dir=config["site_dir"],
                              use_directory_urls=config["use_directory_urls"]))
    return files
