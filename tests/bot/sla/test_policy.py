from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.sla.policy import SlaConfig, Targets, load_sla_config

M, H = timedelta(minutes=1), timedelta(hours=1)

YAML = """
routing:
  - {channel: C0FB, platform: facebook}
business_hours:
  timezone: Europe/Madrid
  holidays: {country: ES, subdivision: MD}
  schedule:
    mon: ["09:00-17:00"]
    tue: ["09:00-17:00"]
    wed: ["09:00-17:00"]
    thu: ["09:00-17:00"]
    fri: ["09:00-14:00", "15:00-18:00"]
    sat: []
    sun: []
sla:
  first_response: {urgent: 10m, normal: 2h}
  next_response: {high: 30m}
  resolution: {normal: 3d}
  warning_at: 0.5
  escalate_after: 2h
  quiet_hours: true
  overrides:
    - {platform: facebook, first_response: {normal: 8h}}
    - {channel: C0VIP, first_response: {normal: 30m}, next_response: {normal: 15m}}
"""

TOML = """
[business_hours]
timezone = "America/New_York"
schedule = { mon = ["09:00-17:00"], tue = ["09:00-17:00"] }

[sla]
first_response = { normal = "1h" }
escalate_after = 0.5

[[sla.overrides]]
channel = "C0VIP"
first_response = { normal = "30m" }
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file():
    config = load_sla_config(None)
    assert config == SlaConfig()
    assert config.targets("urgent", "x", "C1") == Targets(15 * M, 15 * M, None)
    assert config.targets("high", "x", "C1") == Targets(H, H, None)
    assert config.targets("normal", "x", "C1") == Targets(4 * H, 4 * H, None)
    assert config.targets("low", "x", "C1") == Targets(24 * H, 24 * H, None)
    assert config.warning_at == 0.75
    assert config.escalation_offset(4 * H) == 8 * H
    assert config.quiet_hours is False
    assert config.business_hours().is_24_7


def test_a_file_without_sla_sections_gives_the_defaults(tmp_path):
    assert load_sla_config(_write(tmp_path, "c.yaml", "routing: []\n")) == SlaConfig()
    assert load_sla_config(_write(tmp_path, "c.yaml", "business_hours: 24/7\n")).business_hours().is_24_7


def test_yaml_policy(tmp_path):
    config = load_sla_config(_write(tmp_path, "parley.yaml", YAML))
    # Priorities not named keep their defaults; next_response follows first_response unless set.
    assert config.targets("urgent", "x", "C1") == Targets(10 * M, 10 * M, None)
    assert config.targets("high", "x", "C1") == Targets(H, 30 * M, None)
    assert config.targets("normal", "x", "C1") == Targets(2 * H, 2 * H, timedelta(days=3))
    assert config.targets("low", "x", "C1") == Targets(24 * H, 24 * H, None)
    assert config.warning_at == 0.5
    assert config.escalation_offset(2 * H) == 4 * H
    assert config.quiet_hours is True


def test_overrides_first_match_wins_and_replace_only_what_they_name(tmp_path):
    config = load_sla_config(_write(tmp_path, "parley.yaml", YAML))
    assert config.targets("normal", "facebook", "C1") == Targets(8 * H, 2 * H, timedelta(days=3))
    assert config.targets("normal", "x", "C0VIP") == Targets(30 * M, 15 * M, timedelta(days=3))
    assert config.targets("normal", "facebook", "C0VIP").first_response == 8 * H
    assert config.targets("urgent", "facebook", "C1").first_response == 10 * M


def test_unknown_priority_uses_normal():
    assert SlaConfig().targets("whatever", "x", "C1").first_response == 4 * H


def test_business_hours_section(tmp_path):
    bh = load_sla_config(_write(tmp_path, "parley.yaml", YAML)).business_hours()
    madrid = ZoneInfo("Europe/Madrid")
    assert bh.is_open(datetime(2026, 3, 2, 10, tzinfo=madrid))
    assert not bh.is_open(datetime(2026, 3, 6, 14, 30, tzinfo=madrid))  # Friday's split
    assert not bh.is_open(datetime(2026, 1, 6, 10, tzinfo=madrid))  # Epiphany
    assert not bh.is_open(datetime(2026, 3, 7, 10, tzinfo=madrid))


def test_toml_policy(tmp_path):
    config = load_sla_config(_write(tmp_path, "parley.toml", TOML))
    assert config.targets("normal", "x", "C1") == Targets(H, H, None)
    assert config.targets("normal", "x", "C0VIP").first_response == 30 * M
    assert config.escalation_offset(H) == 90 * M
    bh = config.business_hours()
    assert bh.timezone == "America/New_York"
    assert bh.add(datetime(2026, 3, 2, 16, tzinfo=ZoneInfo("America/New_York")), 2 * H) == datetime(
        2026, 3, 3, 10, tzinfo=ZoneInfo("America/New_York"))


def test_env_override_replaces_the_normal_first_response_everywhere(tmp_path):
    config = load_sla_config(_write(tmp_path, "parley.yaml", YAML)).with_first_response(timedelta(seconds=90))
    quick = timedelta(seconds=90)
    assert config.targets("normal", "x", "C1").first_response == quick
    assert config.targets("normal", "x", "C1").next_response == quick  # follows: not set explicitly
    assert config.targets("normal", "facebook", "C1").first_response == quick
    assert config.targets("normal", "x", "C0VIP") == Targets(quick, 15 * M, timedelta(days=3))
    assert config.targets("urgent", "x", "C1").first_response == 10 * M
    assert config.targets("high", "x", "C1").next_response == 30 * M


def test_business_hours_are_built_once():
    config = SlaConfig()
    assert config.business_hours() is config.business_hours()


@pytest.mark.parametrize(("text", "where", "what"), [
    ("sla: {first_response: {normal: soon}}", "sla.first_response.normal", "'soon' is not a duration like"),
    ("sla: {next_response: {high: -1}}", "sla.next_response.high", "greater than zero"),
    ("sla: {overrides: [{platform: facebook, first_response: {normal: later}}]}",
     "sla.overrides[0].first_response.normal", "'later' is not a duration"),
    ("sla: {overrides: [{first_response: {normal: 1h}}]}", "sla.overrides[0]", "needs a platform"),
    ("sla: {frist_response: {normal: 1h}}", "sla.frist_response", "unknown key"),
    ("sla: {first_response: {critical: 1h}}", "sla.first_response.critical", "unknown key"),
    ("sla: {warning_at: 1.5}", "sla.warning_at", "less than or equal to 1"),
    ("sla: {escalate_after: whenever}", "sla.escalate_after", "'whenever' is not a duration"),
    ("sla: {escalate_after: -1}", "sla.escalate_after", "must not be negative"),
    ("sla: [1, 2]", "sla", "must be a mapping"),
    ("business_hours: {timezone: Mars/Olympus}", "business_hours.timezone", "not an IANA time zone"),
    ("business_hours: {schedule: {funday: ['09:00-17:00']}}", "business_hours.schedule", "'funday' is not a weekday"),
    ("business_hours: {schedule: {mon: ['9 to 5']}}", "business_hours.schedule", "mon: '9 to 5' is not a span"),
    ("business_hours: {holidays: {country: XX}}", "business_hours.holidays", "Country XX not available"),
    ("business_hours: {holidays: {country: ES, subdivision: ZZ}}", "business_hours.holidays", "ZZ"),
    ("business_hours: {schedule: {mon: []}}", "business_hours", "never open"),
])
def test_bad_values_name_the_key(tmp_path, text, where, what):
    path = _write(tmp_path, "parley.yaml", text)
    with pytest.raises(ValueError) as info:
        load_sla_config(path)
    message = str(info.value)
    assert f": {where}: " in message
    assert what in message


def test_the_error_names_the_file_and_the_key(tmp_path):
    path = _write(tmp_path, "parley.yaml", "sla: {first_response: {normal: soon}}")
    with pytest.raises(ValueError, match=r"^PARLEY_CONFIG: .*parley\.yaml: sla\.first_response\.normal: 'soon' is not"):
        load_sla_config(path)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        load_sla_config(tmp_path / "absent.yaml")
    with pytest.raises(ValueError, match="not valid toml"):
        load_sla_config(_write(tmp_path, "bad.toml", "[sla\n"))
    with pytest.raises(ValueError, match="mapping at the top level"):
        load_sla_config(_write(tmp_path, "list.yaml", "- 1\n"))


def test_targets_are_business_time_at_evaluation():
    # A sanity check tying policy and hours together: 4h normal target on a 24/7 clock.
    config = SlaConfig()
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert config.business_hours().add(start, config.targets("normal", "x", "C").first_response) == start + 4 * H
