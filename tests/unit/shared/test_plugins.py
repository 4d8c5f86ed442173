"""Service discovery: an entry point must load the service it is named after, whether every
service is loaded or one by name (``jiceng serve NAME`` loads only its own)."""
import pytest

from shared import plugins


class Entry:
    def __init__(self, name, cls):
        self.name, self.cls = name, cls

    def load(self):
        return self.cls


class Misnamed:
    name = "talent"


@pytest.fixture
def misnamed(monkeypatch):
    entries = [Entry("stars", Misnamed)]
    monkeypatch.setattr(plugins, "entry_points", lambda group, name=None: [
        entry for entry in entries if name is None or entry.name == name])


def test_an_entry_point_loading_another_service_is_refused_both_ways(misnamed):
    with pytest.raises(plugins.PluginError, match="'stars' loads a service named 'talent'"):
        plugins.services()
    with pytest.raises(plugins.PluginError, match="'stars' loads a service named 'talent'"):
        plugins.service("stars")
    assert plugins.service("members") is None
    assert plugins.installed_names() == ["stars"]
