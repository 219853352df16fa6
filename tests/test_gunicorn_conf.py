"""gunicorn.conf.py's worker hook: what a worker loaded is kept out of the collector's
full passes (their pauses were the pages' slowest requests)."""

import gc
import runpy
from pathlib import Path

CONFIG = Path(__file__).resolve().parents[1] / "gunicorn.conf.py"


def test_a_worker_freezes_what_it_loaded_once_it_has_loaded_the_portal():
    hooks = runpy.run_path(str(CONFIG))
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        hooks["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > 1000  # this process's modules and objects, at least
    finally:
        gc.unfreeze()
