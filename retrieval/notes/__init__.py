"""The notes folder managed from the page and the command line: list, add, remove, restore, choose.

One job per module: `paths` (names checked, writes that never overwrite), `importing` (.md and
safe .zip), `trash` (remove and restore), `inventory` (counts per file and per heading),
`settings` (which folder), `cli` (`python -m retrieval notes`).
"""
