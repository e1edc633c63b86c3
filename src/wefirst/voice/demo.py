"""The voice part of `make demo`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wefirst.domain.clock import utcnow
from wefirst.voice.airlines import ensure_airline_brands
from wefirst.voice.importing import ImportOptions, import_file

DEMO_DATA = (
    Path(__file__).resolve().parents[3].parent / "shared" / "data" / "voice" / ("airline_tweets_2015_dev.csv")
)


def demo_step(ctx: Any) -> None:
    """Adapter for `wefirst.demo.EXTRA_STEPS` (takes the demo's `DemoContext`): when the shared
    airline data is present, create the six airline brands and import it, moved to the last
    weeks, so a newcomer sees real series and episodes without connecting anything. The data
    is read in place (its licence forbids shipping it) and nothing is alerted."""
    import os

    path = Path(os.environ.get("WEFIRST_VOICE_DEMO_DATA", str(DEMO_DATA)))
    if not path.exists():
        return
    # brands get alpha 1e-3: the demo should show the smaller episodes too (docs/voice-detection.md)
    ids = ensure_airline_brands(ctx.db, detector={"alpha": 1e-3})
    import_file(ctx.db, path, ImportOptions(settings=ctx.settings, shift_to=utcnow(), progress=True))
    ctx.ids.update({f"voice_{name}": brand_id for name, brand_id in ids.items()})
    base = f"{ctx.base_url}/v1/brands/{ids['JetBlue']}/voice"
    ctx.urls["Voice episodes (API)"] = f"{base}/episodes"
    ctx.urls["Voice episodes (Atom)"] = f"{base}/episodes.atom"
