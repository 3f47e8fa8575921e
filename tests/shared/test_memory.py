"""The collector is settled once a process has started: what it built is frozen out of every
collection, young objects are collected less often, and a second start changes nothing."""

import gc

from shared.memory import YOUNG_THRESHOLD, settle_after_start


def test_a_started_process_freezes_what_it_built_once():
    settle_after_start()
    frozen = gc.get_freeze_count()
    assert frozen > 0
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD
    kept_for_life = [[] for _ in range(1000)]  # tracked by the collector: a freeze would count them
    settle_after_start()
    assert gc.get_freeze_count() == frozen, "a second start froze again"
    assert kept_for_life
