"""run.json kept up to date: the run's settings, manifest, harness versions and device, and one
record per session (a first run or a resume; formats.run_info.Session) with its deploy timings and how it ended."""

from __future__ import annotations

import contextlib
import platform
from collections.abc import Iterator
from importlib import metadata

from bench.sweep.deploy import DeployReport
from bench.sweep.runners import RunnerBundle
from formats.device_facts import DeviceFacts
from formats.run_folder import RunFolder, utc_now_text
from formats.run_info import (
    SESSION_COMPLETE,
    SESSION_DIED,
    SESSION_INTERRUPTED,
    SESSION_RUNNING,
    SESSION_STOPPED,
    RuntimeRunnerRecord,
    Session,
)


def harness_versions(bundle: RunnerBundle) -> dict:
    try:
        splitbench_version = metadata.version("splitbench")
    except metadata.PackageNotFoundError:
        splitbench_version = None
    return {
        "splitbench": splitbench_version,
        "python": platform.python_version(),
        "host": f"{platform.system()}-{platform.machine()}",
        "runner_version": bundle.runner_version,
        "runner_bundle": {"folder": str(bundle.folder), "platform": bundle.platform, "abi": bundle.abi},
    }


class RunLog:
    """Owns run.json for one session (formats.run_info.Session, the last of `sessions`); every change is written
    at once (atomically)."""

    def __init__(self, folder: RunFolder, info: dict, sessions: list[Session]):
        self.folder = folder
        self.info = info
        self.sessions = sessions

    @property
    def session(self) -> Session:
        return self.sessions[-1]

    @classmethod
    def start(cls, folder: RunFolder, base_info: dict, device: DeviceFacts, bundle: RunnerBundle,
              serial_spec: str, repaired_tail_bytes: int) -> RunLog:
        """Append a new session to ``base_info`` (a new run's header, or the resumed run's run.json)."""
        session = Session(started_utc=utc_now_text(), serial=serial_spec, repaired_tail_bytes=repaired_tail_bytes)
        info = {key: value for key, value in base_info.items() if key not in ("schema", "schema_version", "sessions")}
        info["harness"] = harness_versions(bundle)
        info["device"] = device.to_json()
        earlier = [Session.from_json(s) for s in base_info.get("sessions", [])]
        for previous in earlier:  # a session still "running" when the run is resumed died without a word
            if previous.end == SESSION_RUNNING:
                previous.end = SESSION_DIED
        log = cls(folder, info, earlier + [session])
        log.write()
        return log

    def write(self) -> None:
        self.folder.write_run_info({**self.info, "sessions": [session.to_json() for session in self.sessions]})

    def record_device(self, device: DeviceFacts) -> None:
        """The device facts again, once the sweep has learnt more of them (its core's measured peak)."""
        self.info["device"] = device.to_json()
        self.write()

    def record_device_claim(self, lock_takeover: dict | None, leftover_runners_ended: list[dict]) -> None:
        """The device lock taken over from a dead sweep (or None) and the leftover runners ended before measuring."""
        self.session.device_lock_takeover = lock_takeover
        self.session.leftover_runners_ended = leftover_runners_ended
        self.write()

    def record_deploy(self, report: DeployReport) -> None:
        self.session.deploy = report.to_json()
        self.write()

    def record_runtime_runner(self, session_field: str, record: RuntimeRunnerRecord) -> None:
        """Which build ran a runtime's programs (or why they were not run), under the runtime's session field."""
        self.session.runtime_runners[session_field] = record
        self.write()

    @contextlib.contextmanager
    def session_end(self, rows_before: int) -> Iterator[None]:
        """Records how the block ended (complete / interrupted / stopped: reason) and the rows it wrote."""
        try:
            yield
            self.session.end = SESSION_COMPLETE
        except KeyboardInterrupt:
            self.session.end = SESSION_INTERRUPTED
            raise
        except Exception as exc:
            self.session.end = f"{SESSION_STOPPED}{exc}"
            raise
        finally:
            self.session.ended_utc = utc_now_text()
            self.session.rows_written = self.folder.existing_rows().count - rows_before
            self.write()


def new_run_header(run_id: str, serial_spec: str, settings: dict, core: int, manifest_path: str,
                   manifest_sha256: str, manifest_model: dict, program_ids: list[str]) -> dict:
    """A new run's run.json (formats.run_info); `manifest_model` is the manifest's model section, kept so
    that the report needs nothing outside the run folder."""
    return {
        "run_id": run_id, "created_utc": utc_now_text(), "serial_spec": serial_spec, "settings": settings,
        "core": core, "manifest": {"path": manifest_path, "sha256": manifest_sha256, "model": manifest_model},
        "programs": program_ids, "sessions": [],
    }
