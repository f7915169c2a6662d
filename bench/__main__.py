"""``python -m bench``: issue 17's benchmark suite (see bench/suite.py)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.suite import main  # noqa: E402

raise SystemExit(main())
