"""Zero-downtime data migrations, one component at a time.

1. **Writes branch**: :func:`mirror` sends every write of the old model to
   the new one too, with the same timestamp.
2. **Backfill**: :func:`backfill` copies the history, each row with its own
   write timestamps, so a newer live write always wins; it records its
   progress and resumes where it stopped.
3. **Spot-check**: :func:`verify` compares source and target (all of it, or
   a sample of splits) and lists the rows that differ.
4. **Reads branch**: the application reads the new model; then the mirror
   is stopped and the old table retired.

``python -m cqlengine migrate backfill|verify`` runs steps 2 and 3 from the
command line.
"""
from cqlengine.migrate.compare import Difference, VerifyReport, verify
from cqlengine.migrate.history import BackfillError, BackfillStarted, BackfillSummary, Stamped, backfill
from cqlengine.mirroring import Mirror, MirrorError, mirror

__all__ = ["BackfillError", "BackfillStarted", "BackfillSummary", "Difference", "Mirror", "MirrorError",
           "Stamped", "VerifyReport", "backfill", "mirror", "verify"]
