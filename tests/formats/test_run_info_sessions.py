"""run.json sessions as formats.run_info.Session: what is read is written back unchanged (older sessions without the
later fields, fields this reader does not know), and a runtime's runner record sits under its session field."""

import pytest

from formats.errors import ResultsError
from formats.run_info import RuntimeRunnerRecord, Session


def test_a_session_reads_and_writes_back_unchanged():
    written = {"started_utc": "a", "serial": "loopback", "deploy": {"files_pushed": 1}, "ended_utc": "b",
               "rows_written": 4, "end": "complete", "repaired_tail_bytes": 0, "device_lock_takeover": None,
               "leftover_runners_ended": [], "lite_runner": {"folder": "/b", "runner_version": "0.1.0",
                                                             "unavailable_reason": None},
               "transport": "adb-server"}  # a field of a later writer
    session = Session.from_json(written)
    assert session.runtime_runners == {"lite_runner": RuntimeRunnerRecord("/b", "0.1.0", None)}
    assert session.other == {"transport": "adb-server"}
    assert session.to_json() == written


def test_an_older_session_stays_without_the_later_fields():
    older = {"started_utc": "a", "serial": "s", "deploy": None, "ended_utc": None, "rows_written": 0,
             "end": "running", "repaired_tail_bytes": 0}
    assert Session.from_json(older).to_json() == older


def test_a_new_session_records_the_claim_with_a_null_takeover():
    session = Session(started_utc="a", serial="s")
    assert "device_lock_takeover" not in session.to_json()
    session.leftover_runners_ended = []
    assert session.to_json()["device_lock_takeover"] is None and session.to_json()["leftover_runners_ended"] == []


def test_a_session_without_its_start_is_one_clear_error():
    with pytest.raises(ResultsError, match="lacks started_utc or serial"):
        Session.from_json({"serial": "s"})
