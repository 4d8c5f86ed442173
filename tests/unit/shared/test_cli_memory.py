"""``jiceng serve`` leaves what it made while starting out of later garbage collections."""
import gc

from shared.cli import freeze_startup_objects


def test_objects_made_before_the_freeze_are_left_out_of_later_collections():
    made = [[index] for index in range(1000)]
    try:
        freeze_startup_objects()
        assert gc.get_freeze_count() >= len(made)
        assert not any(item is made[0] for item in gc.get_objects(generation=2))
    finally:
        gc.unfreeze()
