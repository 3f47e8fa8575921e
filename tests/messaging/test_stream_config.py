"""The stream each service declares takes its replica count from the settings."""

from shared.config import CommonSettings
from shared.messaging.broker import stream_config


def test_streams_have_the_configured_replicas():
    assert stream_config("tickets").num_replicas == 1
    assert stream_config("tickets", replicas=3).num_replicas == 3


def test_the_setting_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("CEM_STREAM_REPLICAS", "3")
    assert CommonSettings().stream_replicas == 3
