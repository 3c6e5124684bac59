#!/usr/bin/env python3
"""Regenerate the layer table in README.md from the registered layer classes.

Run after adding or changing a layer type: python scripts/update_readme_layers.py
(tests/test_layer_reference.py fails while the README is stale).
"""

from pathlib import Path

from cnncalc.reference import update_readme

readme = Path(__file__).resolve().parent.parent / "README.md"
text = readme.read_text(encoding="utf-8")
new = update_readme(text)
if new != text:
    readme.write_text(new, encoding="utf-8")
    print(f"updated {readme}")
else:
    print(f"{readme} is up to date")
