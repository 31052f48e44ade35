from datetime import timedelta

import pytest

from bot.config_file import format_duration, parse_duration, read_config_file


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("2m", 120), ("4h", 14400), ("1d", 86400),
                                               ("90", 90), ("1.5m", 90), ("250ms", 0.25)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "soon", "5 minutes", "-1s", "0s", "3w"])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_parse_duration_takes_numbers_and_timedeltas():
    assert parse_duration(90) == timedelta(seconds=90)
    assert parse_duration(0.5) == timedelta(milliseconds=500)
    assert parse_duration(timedelta(hours=2)) == timedelta(hours=2)
    with pytest.raises(ValueError, match="greater than zero"):
        parse_duration(0)


def test_read_config_file_yaml_and_toml(tmp_path):
    yaml_file = tmp_path / "parley.yaml"
    yaml_file.write_text("routing:\n  - {channel: C0ES, language: es}\nsla: {warning_at: 0.5}\n", encoding="utf-8")
    toml_file = tmp_path / "parley.toml"
    toml_file.write_text("[sla]\nwarning_at = 0.5\n", encoding="utf-8")
    assert read_config_file(yaml_file) == {"routing": [{"channel": "C0ES", "language": "es"}],
                                           "sla": {"warning_at": 0.5}}
    assert read_config_file(toml_file) == {"sla": {"warning_at": 0.5}}


def test_read_config_file_empty_file_is_an_empty_mapping(tmp_path):
    empty = tmp_path / "parley.yaml"
    empty.write_text("", encoding="utf-8")
    assert read_config_file(empty) == {}


@pytest.mark.parametrize(("name", "content", "message"), [
    ("parley.yaml", "routing: [unclosed", "is not valid yaml"),
    ("parley.toml", "[sla\n", "is not valid toml"),
    ("parley.yaml", "- just\n- a list\n", "must hold a mapping at the top level"),
])
def test_read_config_file_errors_name_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as caught:
        read_config_file(path)
    assert str(caught.value).startswith(f"PARLEY_CONFIG: {path}")


def test_read_config_file_missing(tmp_path):
    with pytest.raises(ValueError, match="PARLEY_CONFIG: no such file"):
        read_config_file(tmp_path / "nope.yaml")


@pytest.mark.parametrize("text", ["99999999999999999999s", "99999999999999999999d", "1e400"])
def test_absurd_durations_are_a_value_error_not_an_overflow(text):
    with pytest.raises(ValueError, match=r"at most 3650d|not a duration"):
        parse_duration(text)


def test_duration_bounds_name_the_limit():
    five = timedelta(seconds=5)
    assert parse_duration("5s", minimum=five, maximum=timedelta(days=1)) == five
    with pytest.raises(ValueError, match="at least 5s"):
        parse_duration("0.0000001s", minimum=five)
    with pytest.raises(ValueError, match="at most 1d"):
        parse_duration("25h", maximum=timedelta(days=1))


@pytest.mark.parametrize(("span", "text"), [(timedelta(milliseconds=250), "250ms"), (timedelta(seconds=5), "5s"),
                                            (timedelta(minutes=90), "90m"), (timedelta(days=1), "1d")])
def test_format_duration_round_trips(span, text):
    assert format_duration(span) == text
    assert parse_duration(text) == span


@pytest.mark.parametrize("content", ["routes:\n  - {channel: C0X}\n", "routing: []\nslas: {}\n"])
def test_an_unknown_top_level_section_names_the_file_and_the_key(tmp_path, content):
    path = tmp_path / "parley.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=r"unknown section '(routes|slas)'") as caught:
        read_config_file(path)
    assert str(path) in str(caught.value) and "routing, sla, business_hours" in str(caught.value)


def test_a_binary_config_file_is_named(tmp_path):
    path = tmp_path / "parley.yaml"
    path.write_bytes(b"\xff\xfe\x00binary\x80")
    with pytest.raises(ValueError, match="is not UTF-8 text") as caught:
        read_config_file(path)
    assert str(path) in str(caught.value)
