"""CPU time per hook call in process (Flask test client), for comparing commits.

    .venv/bin/python bench/in_process.py [--calls 150] [--only S1,S3] [--profile S1]

The bench's bodies (bench/make_data.py, today's date) through `create_app` with a
temporary SQLite store: per scenario a few warm-up calls, then `--calls` calls, each
timed in CPU time of the calling thread (`time.thread_time`), so other load on the
shared machine moves the figure less than wall-clock time would. Prints the median and
the best per scenario. `--profile NAME` prints a cProfile of that scenario instead
(sorted by internal time). bench/PROFILE.md's "in process" figures come from here.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import make_data  # noqa: E402

SIGN = "/cds-services/toh-core-decompression-sign"
# scenario -> (body file, per-call nonce)
SCENARIOS = {
    "S0": ("s0-request.json", True),
    "S1": ("s1-request.json", True),
    "S1cold": ("s1-cold-request.json", True),
    "S2": ("s2-request.json", False),
    "S3": ("s1-request.json", False),
}


def body_for(template: str, nonce: str | None) -> bytes:
    text = template.replace(make_data.HOOK_PLACEHOLDER, str(uuid.uuid4()))
    if nonce is not None:
        text = make_data.put_nonce(text, nonce)
    return text.encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=150)
    parser.add_argument("--only", default=",".join(SCENARIOS))
    parser.add_argument("--profile", default=None, help="cProfile this scenario instead")
    parser.add_argument("--profile-out", type=Path, default=None, help="also save the stats")
    args = parser.parse_args()

    from cds_service.app import create_app
    from cds_service.config import Settings
    from cds_service.preload import tune_gc

    work = Path(tempfile.mkdtemp(prefix="cds-inproc-"))
    make_data.write(work / "data", date.today())
    settings = Settings(store={"url": f"sqlite:///{work / 'store.sqlite3'}"})
    app = create_app(settings)
    app.extensions["cds_pipeline"].reader.warm()
    tune_gc()  # as `cds-service serve` does at start, and its gc.freeze() before the fork
    gc.collect()
    gc.freeze()
    client = app.test_client()
    names = [args.profile] if args.profile else args.only.split(",")
    for name in names:
        file, nonce = SCENARIOS[name]
        template = (work / "data" / file).read_text()
        for i in range(5):
            body = body_for(template, f"warm{i}-{uuid.uuid4().hex}" if nonce else None)
            response = client.post(SIGN, data=body, content_type="application/json")
            assert response.status_code == 200, response.get_data(as_text=True)[:500]
        bodies = [body_for(template, f"N{i}-{uuid.uuid4().hex}" if nonce else None)
                  for i in range(args.calls)]
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for body in bodies:
                client.post(SIGN, data=body, content_type="application/json")
            profiler.disable()
            if args.profile_out:
                profiler.dump_stats(str(args.profile_out))
            pstats.Stats(profiler).sort_stats("tottime").print_stats(45)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(60)
            continue
        times = []
        for body in bodies:
            started = time.thread_time()
            client.post(SIGN, data=body, content_type="application/json")
            times.append((time.thread_time() - started) * 1000)
        print(f"{name:<7} median {statistics.median(times):7.3f} ms CPU   "
              f"best {min(times):7.3f} ms   ({len(times)} calls)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
