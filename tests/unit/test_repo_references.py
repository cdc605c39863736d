"""The repository stands on its own: no pointer to notes outside it, and every docs/protocol.md link resolves.

What the code relies on about Auth0 is written down in docs/protocol.md; a comment that sends the reader to
a file outside the checkout (or to a section number of one) is a dead end for everyone else.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED_DIRS = ("bridge/", "fixtures/", "tests/", "bench/", "docs/", "examples/", "scripts/")
SCANNED_FILES = ("README.md", "CHANGELOG.md", "Dockerfile", "pyproject.toml")
LS_FILES = ("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--")
# Built from parts so this file does not match itself.
OUTSIDE = re.compile("|".join([r"shared" + "/reference", r"\.\./" + "shared", r"/work" + "/shared"]))
# A bare section number ("reference", then "section" and a number) of a document the repository does not hold.
SECTION_NUMBER = re.compile(r"\breference (?:sections?\s+)?\d+(?:\.\d+)*", re.IGNORECASE)
PROTOCOL_LINK = re.compile(r"docs/protocol\.md#([a-z0-9-]+)")


def _tracked_texts() -> dict[str, str]:
    """Committed files and new ones .gitignore does not exclude: a new module is checked before its commit."""
    listed = subprocess.run(
        [*LS_FILES, *SCANNED_DIRS, *SCANNED_FILES],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    texts: dict[str, str] = {}
    for path in filter(None, listed.split("\0")):
        file = ROOT / path
        if not file.is_file():  # tracked but deleted in the working tree
            continue
        try:
            texts[path] = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:  # images and other binary files hold no prose
            continue
    return texts


def _slug(heading: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _protocol_anchors() -> set[str]:
    text = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    return {_slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+)$", text, re.MULTILINE)}


def test_the_scan_sees_the_code_and_the_docs() -> None:
    texts = _tracked_texts()
    for expected in (
        "bridge/__init__.py",
        "fixtures/guardian_bridge_fake/app.py",
        "docs/protocol.md",
        "README.md",
    ):
        assert expected in texts


def test_nothing_points_outside_the_repository() -> None:
    found = [
        f"{path}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
        for path, text in _tracked_texts().items()
        for pattern in (OUTSIDE, SECTION_NUMBER)
        for m in pattern.finditer(text)
    ]
    assert not found, "point to docs/protocol.md#<section> instead:\n" + "\n".join(found)


def test_every_protocol_link_names_a_heading() -> None:
    anchors = _protocol_anchors()
    assert {"tickets", "guardian-api", "open-questions"} <= anchors
    broken = [
        f"{path}: #{m.group(1)}"
        for path, text in _tracked_texts().items()
        for m in PROTOCOL_LINK.finditer(text)
        if m.group(1) not in anchors
    ]
    assert not broken, "docs/protocol.md has no such heading:\n" + "\n".join(broken)


def test_protocol_links_are_used() -> None:
    # Keeps the link check above from passing on nothing: the fake's Guardian API cites its wire format.
    citing = {path for path, text in _tracked_texts().items() if PROTOCOL_LINK.search(text)}
    assert "fixtures/guardian_bridge_fake/apis/guardian.py" in citing
