"""The shared parsers at the boundary: whatever a person or a tool sends, the answer is a
value within bounds or a ParseError with a reason, never another exception."""

import datetime as dt

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from cohorte.core import parse
from cohorte.core.converters import IdConverter

ANY_TEXT = st.one_of(
    st.text(max_size=40),
    st.integers().map(str),
    st.sampled_from(["²", "٣", "1e3", " 7 ", "-1", "0", "9" * 19, str(2**63), "0x10", "+5"]),
)


@given(ANY_TEXT)
def test_parse_id_gives_a_database_key_or_a_reason(value):
    try:
        number = parse.parse_id(value)
    except parse.ParseError as error:
        assert error.message
    else:
        assert 1 <= number <= parse.MAX_ID


@given(ANY_TEXT, st.integers(-1000, 1000), st.integers(0, 1000))
def test_parse_int_stays_within_its_bounds(value, low, width):
    try:
        number = parse.parse_int(value, minimum=low, maximum=low + width)
    except parse.ParseError:
        return
    assert low <= number <= low + width


@given(st.one_of(st.text(max_size=30), st.dates().map(dt.date.isoformat)))
def test_parse_date_is_within_the_century(value):
    try:
        day = parse.parse_date(value)
    except parse.ParseError:
        return
    assert parse.EARLIEST_DATE <= day <= parse.LATEST_DATE


@given(
    st.one_of(
        st.text(max_size=40),
        st.datetimes(timezones=st.timezones()).map(dt.datetime.isoformat),
        st.datetimes().map(dt.datetime.isoformat),
    )
)
def test_parse_datetime_is_aware_and_bounded(value):
    try:
        moment = parse.parse_datetime(value, tz=dt.UTC)
    except parse.ParseError:
        return
    assert moment.tzinfo is not None
    assert moment.year >= 2000 and moment.year <= 2100


def test_ascii_digits_only():
    for value in ("²", "٣", "1²", "", " ", "1.0", str(2**63), "99999999999999999999"):
        with pytest.raises(parse.ParseError):
            parse.parse_id(value)
    assert parse.parse_id(" 42 ") == 42
    assert parse.parse_id(str(2**63 - 1)) == 2**63 - 1


def test_event_times_cannot_be_in_the_future_or_before_2000():
    now = timezone.now()
    assert parse.check_event_time(now) == now
    with pytest.raises(parse.ParseError):
        parse.check_event_time(now + dt.timedelta(hours=1))
    with pytest.raises(parse.ParseError):
        parse.check_event_time(dt.datetime(1999, 12, 31, tzinfo=dt.UTC))
    with pytest.raises(parse.ParseError):
        parse.check_schedule_time(dt.datetime(9999, 1, 1, tzinfo=dt.UTC))


@pytest.mark.parametrize("name", ["Not/AZone", "../../etc/passwd", "", "europe/paris", "UTC\x00"])
def test_time_zones_must_be_known_to_zoneinfo(name):
    with pytest.raises(parse.ParseError):
        parse.parse_timezone(name)


def test_a_stored_bad_time_zone_falls_back():
    assert parse.zone_or_default("../../etc/passwd", dt.UTC) is dt.UTC
    assert str(parse.zone_or_default("Europe/Paris", dt.UTC)) == "Europe/Paris"


@given(st.text(alphabet="0123456789", min_size=1, max_size=19))
def test_url_ids_fit_a_database_key(digits):
    try:
        number = IdConverter().to_python(digits)
    except ValueError:
        assert int(digits) == 0 or int(digits) > parse.MAX_ID
    else:
        assert 1 <= number <= parse.MAX_ID


def test_huge_ids_in_urls_are_not_found(client, admin):
    client.force_login(admin)
    assert client.get("/membres/99999999999999999999/").status_code == 404
    assert client.get(f"/membres/{2**63}/").status_code == 404


def test_huge_ids_in_the_api_are_refused_in_json(api_as, admin):
    api = api_as(admin)
    response = api.get(f"/api/programs/{2**63}")
    assert response.status_code == 400
    assert response.json()["message"]
    response = api.get("/api/programs/²")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
