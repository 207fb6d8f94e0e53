"""What an importer did: clips written and entries skipped, with reasons counted by kind and logged."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


class SkipEntry(Exception):
    """An input entry that cannot become a clean clip; ``kind`` groups it in the summary, the message says why."""

    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)

    def skip(self, entry: str, err: SkipEntry) -> None:
        self.skipped.append({"entry": entry, "kind": err.kind, "reason": str(err)})
        log.warning("skipped %s: %s", entry, err)

    def summary(self) -> dict:
        return {"imported": len(self.imported), "skipped": len(self.skipped),
                "skip_reasons": dict(Counter(s["kind"] for s in self.skipped).most_common()),
                "skipped_entries": self.skipped}
