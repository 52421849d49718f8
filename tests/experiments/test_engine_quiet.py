"""`einspace sweep --quiet` silences the distributed engines' logging, not only the progress bar."""
from __future__ import annotations

import logging
import sys
import types

from experiments.engines import ENGINE_LOGGERS, make_engine, silence


def test_silence_raises_the_engine_loggers():
    for engine, names in ENGINE_LOGGERS.items():
        for name in names:
            logging.getLogger(name).setLevel(logging.INFO)
        silence(engine)
        assert all(logging.getLogger(n).level == logging.ERROR for n in names)


def test_ray_engine_quiet_passes_error_level(monkeypatch):
    calls = []
    fake = types.SimpleNamespace(init=lambda **kw: calls.append(kw), shutdown=lambda: None)
    monkeypatch.setitem(sys.modules, "ray", fake)
    make_engine("ray", 2, quiet=True).close()
    make_engine("ray", 2).close()
    assert calls[0]["logging_level"] == logging.ERROR and calls[0]["log_to_driver"] is False
    assert "logging_level" not in calls[1]
