"""What a service process carries: ``jiceng serve`` leaves what it made while starting out of
later garbage collections, imports only the services it serves, and nothing it imports holds
a password hash's 64 MiB."""
import gc
import subprocess
import sys

from shared.cli import freeze_startup_objects
from shared.config import ROOT


def test_objects_made_before_the_freeze_are_left_out_of_later_collections():
    made = [[index] for index in range(1000)]
    try:
        freeze_startup_objects()
        assert gc.get_freeze_count() >= len(made)
        assert not any(item is made[0] for item in gc.get_objects(generation=2))
    finally:
        gc.unfreeze()


def test_serving_one_service_imports_no_other_and_the_gateway_hashes_nothing_at_import():
    code = ("import sys; from shared.cli import selected; classes = selected(['members']); "
            "print(sorted(classes)); "
            "print(sorted(m for m in sys.modules if m.startswith('services.') and "
            "m.endswith('.service'))); "
            "import services.gateway.service, services.gateway.passwords as p; "
            "print(p.dummy_hash.cache_info().currsize)")
    out = subprocess.run([sys.executable, "-c", code], cwd=str(ROOT), capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert out == ["['members']", "['services.members.service']", "0"]
