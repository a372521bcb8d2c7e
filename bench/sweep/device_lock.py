"""One sweep per device at a time: a lock directory on the device, made atomically with mkdir.

``<root>/sweep.lock/`` holds ``owner`` (key=value lines: run id, host, pid and its start time, start time
of the sweep, a random token, how long a silent lock may be left before it counts as stale) and
``heartbeat``, touched before every launch. A sweep that finds another sweep's live lock stops with
DeviceInUse naming it. A lock is stale, and is taken over (the takeover is recorded in run.json), when its
owner ran on this host and its process is gone, or when its heartbeat is older than the owner's
``stale_after_s``. The lock is released when the sweep ends; a launch that finds the lock no longer its
own stops the sweep.

Each run also has its own device folder, ``<root>/runs/<run_id>/``, for its per-launch output files and the
pid file of the runner it is running (bench.sweep.leftovers).
"""

from __future__ import annotations

import os
import posixpath
import re
import secrets
import shlex
import socket
from dataclasses import asdict, dataclass

from bench.adb.scripts import ShellConnection, run_script, section_marker, split_sections
from bench.errors import BenchError, DeviceInUse
from bench.host_processes import pid_alive
from formats.run_folder import utc_now_text

LOCK_DIR_NAME = "sweep.lock"
OWNER_FILE = "owner"
HEARTBEAT_FILE = "heartbeat"
RUNS_DIR_NAME = "runs"
STALE_MARGIN_S = 600.0  # beyond the longest silence of a live sweep: one launch plus one cool-down
TAKEOVER_TURN_S = 120.0  # a takeover turn older than this was left by a sweep that died taking over
_OWNER_KEYS = ("run_id", "host", "pid", "pid_start", "started_utc", "token", "stale_after_s")


@dataclass(frozen=True)
class LockOwner:
    """Who holds a device's sweep lock, as its owner file says."""

    run_id: str
    host: str
    pid: int | None
    pid_start: str  # the process's start time (field 22 of /proc/PID/stat), against pid reuse
    started_utc: str
    token: str
    stale_after_s: float

    def to_json(self) -> dict:
        return asdict(self)

    def owner_file_text(self) -> str:
        return "".join(f"{key}={_one_line(str(getattr(self, key)))}\n" for key in _OWNER_KEYS)

    def describe(self) -> str:
        return f"run {self.run_id} on host {self.host} (pid {self.pid}) since {self.started_utc}"


@dataclass(frozen=True)
class DeviceClaim:
    """This sweep's hold on the device: the lock it owns and its own run folder on the device."""

    root: str
    run_id: str
    token: str

    @property
    def lock_dir(self) -> str:
        return posixpath.join(self.root, LOCK_DIR_NAME)

    @property
    def run_dir(self) -> str:
        return posixpath.join(self.root, RUNS_DIR_NAME, self.run_id)

    def heartbeat_lines(self) -> list[str]:
        """Shell lines for a launch script: stop (section lock_lost, then the owner file) unless the lock is
        still this sweep's, else touch the heartbeat."""
        owner = shlex.quote(posixpath.join(self.lock_dir, OWNER_FILE))
        return [
            f"if ! grep -qx {shlex.quote('token=' + self.token)} {owner} 2>/dev/null; then",
            f"  {section_marker('lock_lost')}; cat {owner} 2>/dev/null; exit 0",
            "fi",
            f"touch {shlex.quote(posixpath.join(self.lock_dir, HEARTBEAT_FILE))}",
        ]


@dataclass(frozen=True)
class LockState:
    acquired: bool
    owner: LockOwner | None  # the holder's owner file, when another sweep holds the lock (None: unreadable)
    age_s: float | None  # seconds since the holder's heartbeat, by the device's clock


@dataclass(frozen=True)
class LockTakeover:
    previous_owner: dict | None
    reason: str

    def to_json(self) -> dict:
        return {"previous_owner": self.previous_owner, "reason": self.reason, "taken_utc": utc_now_text()}


def this_process_start() -> str:
    """Field 22 of /proc/self/stat (start time in clock ticks since boot), or "" off Linux."""
    return process_start(os.getpid())


def process_start(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return ""
    fields = text.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else ""


def new_owner(run_id: str, stale_after_s: float) -> LockOwner:
    return LockOwner(run_id=run_id, host=socket.gethostname(), pid=os.getpid(), pid_start=this_process_start(),
                     started_utc=utc_now_text(), token=secrets.token_hex(8), stale_after_s=stale_after_s)


def stale_after_s_for(launch_timeout_s: float, cooldown_max_s: float) -> float:
    return launch_timeout_s + cooldown_max_s + STALE_MARGIN_S


def acquire_script(root: str, owner: LockOwner) -> str:
    lock = shlex.quote(posixpath.join(root, LOCK_DIR_NAME))
    owner_path = posixpath.join(root, LOCK_DIR_NAME, OWNER_FILE)
    return "\n".join([
        f"mkdir -p {shlex.quote(root)}",
        f"if mkdir {lock} 2>/dev/null; then",
        f"  printf '%s' {shlex.quote(owner.owner_file_text())} >{shlex.quote(owner_path + '.tmp')}",
        f"  mv {shlex.quote(owner_path + '.tmp')} {shlex.quote(owner_path)}",
        f"  touch {lock}/{HEARTBEAT_FILE}",
        f"  {section_marker('acquired')}",
        "else",
        f"  {section_marker('owner')}; cat {lock}/{OWNER_FILE} 2>/dev/null",
        f"  {section_marker('now')}; date +%s",
        f"  {section_marker('heartbeat')}; stat -c %Y {lock}/{HEARTBEAT_FILE} 2>/dev/null || stat -c %Y {lock} 2>/dev/null",
        "fi",
        "true",
    ])


def parse_owner(text: str) -> LockOwner | None:
    values = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    if not values.get("token"):
        return None
    try:
        pid = int(values.get("pid", ""))
    except ValueError:
        pid = None
    try:
        stale_after_s = float(values.get("stale_after_s", ""))
    except ValueError:
        stale_after_s = STALE_MARGIN_S
    return LockOwner(run_id=values.get("run_id", "?"), host=values.get("host", "?"), pid=pid,
                     pid_start=values.get("pid_start", ""), started_utc=values.get("started_utc", "?"),
                     token=values["token"], stale_after_s=stale_after_s)


def try_acquire(connection: ShellConnection, root: str, owner: LockOwner) -> LockState:
    result = run_script(connection, acquire_script(root, owner), timeout_s=60)
    sections = split_sections(result.output)
    if "acquired" in sections:
        return LockState(acquired=True, owner=None, age_s=None)
    if "owner" not in sections:
        raise BenchError(f"could not make the sweep lock in {root} on the device ({_one_line(result.output)[-200:]}); "
                         "check that the device's storage is writable")
    now, beat = _integer(sections.get("now")), _integer(sections.get("heartbeat"))
    age_s = float(now - beat) if now is not None and beat is not None else None
    return LockState(acquired=False, owner=parse_owner(sections.get("owner", "")), age_s=age_s)


def seconds_since_modified(quoted_path: str) -> str:
    """Shell arithmetic: seconds since `quoted_path` was last modified, by the device's clock (0 when absent)."""
    return f"$(( $(date +%s) - $(stat -c %Y {quoted_path} 2>/dev/null || date +%s) ))"


def stale_reason(owner: LockOwner | None, age_s: float | None, run_id: str) -> str | None:
    """Why the lock may be taken over, or None while its owner may be alive.

    A lock of this very run taken on this host is an earlier session's (the device was lost before it could be
    released): the caller holds the run folder's write lock, so no other live sweep of this run exists here."""
    limit_s = owner.stale_after_s if owner is not None else STALE_MARGIN_S
    if owner is not None and owner.host == socket.gethostname() and owner.run_id == run_id:
        return "it was left by an earlier session of this run"
    if owner is not None and owner.host == socket.gethostname() and owner.pid is not None:
        if not pid_alive(owner.pid) or (owner.pid_start and process_start(owner.pid) != owner.pid_start):
            return f"its owner, pid {owner.pid} on this host, is gone"
    if age_s is not None and age_s > limit_s:
        return f"its heartbeat is {age_s:.0f} s old (stale after {limit_s:.0f} s)"
    return None


def take_over_script(root: str, stale: LockOwner | None, token: str) -> str:
    """Move the stale lock aside (atomic rename) only while it is still the one judged stale, then delete it.

    Sweeps that judge the same lock stale at once take turns: each first makes ``sweep.lock.takeover-<stale
    token>`` (atomic mkdir), so between one sweep's check and its move no other sweep can put its own new lock
    in place and see it moved. A turn left by a sweep that died inside it is cleared after TAKEOVER_TURN_S. A
    lock without an owner file is taken only while it is still older than STALE_MARGIN_S (a sweep that has
    just made it has not written its owner file yet)."""
    lock = posixpath.join(root, LOCK_DIR_NAME)
    turn = shlex.quote(posixpath.join(root, f"{LOCK_DIR_NAME}.takeover-{stale.token if stale else 'unowned'}"))
    aside = shlex.quote(posixpath.join(root, f"{LOCK_DIR_NAME}.stale-{token}"))
    owner = shlex.quote(posixpath.join(lock, OWNER_FILE))
    quoted_lock = shlex.quote(lock)
    if stale is not None:
        same = f"grep -qx {shlex.quote('token=' + stale.token)} {owner} 2>/dev/null"
    else:
        same = f"[ ! -e {owner} ] && [ {seconds_since_modified(quoted_lock)} -gt {int(STALE_MARGIN_S)} ]"
    return "\n".join([
        f"if mkdir {turn} 2>/dev/null; then",
        f"  if {same}; then mv {quoted_lock} {aside} 2>/dev/null && rm -rf {aside}; fi",
        f"  rmdir {turn}",
        f"elif [ {seconds_since_modified(turn)} -gt {int(TAKEOVER_TURN_S)} ]; then",
        f"  rmdir {turn} 2>/dev/null",
        "fi",
        "true",
    ])


def acquire_device_lock(connection: ShellConnection, root: str, run_id: str,
                        stale_after_s: float, serial: str) -> tuple[DeviceClaim, LockTakeover | None]:
    """Take the device's sweep lock; DeviceInUse when another live sweep holds it."""
    owner = new_owner(run_id, stale_after_s)
    takeover = None
    for _ in range(3):
        state = try_acquire(connection, root, owner)
        if state.acquired:
            return DeviceClaim(root=root, run_id=run_id, token=owner.token), takeover
        reason = stale_reason(state.owner, state.age_s, run_id)
        if reason is None:
            raise DeviceInUse(in_use_message(serial, root, state))
        run_script(connection, take_over_script(root, state.owner, owner.token), timeout_s=60)
        takeover = LockTakeover(previous_owner=state.owner.to_json() if state.owner else None, reason=reason)
    raise DeviceInUse(f"{serial}: could not take over the stale sweep lock {root}/{LOCK_DIR_NAME}: another sweep "
                      "took it first or is taking it over; wait for it to finish, then run again (a takeover left "
                      f"half-done by a dead sweep is cleared after {TAKEOVER_TURN_S:.0f} s)")


def in_use_message(serial: str, root: str, state: LockState) -> str:
    who = state.owner.describe() if state.owner is not None else "a sweep that is still starting"
    seen = f", last seen {state.age_s:.0f} s ago" if state.age_s is not None else ""
    return (f"{serial} is in use by another sweep: {who}{seen}; wait for it to finish (or stop it), then run "
            f"again (a dead sweep's lock {root}/{LOCK_DIR_NAME} is taken over once its owner is gone)")


def release_script(claim: DeviceClaim) -> str:
    """Remove the lock if it is still this sweep's, and the run's device folder if it is empty (a runner's pid
    file left in it is how a resume finds a runner that outlived its sweep)."""
    owner = shlex.quote(posixpath.join(claim.lock_dir, OWNER_FILE))
    return "\n".join([
        f"if grep -qx {shlex.quote('token=' + claim.token)} {owner} 2>/dev/null; then rm -rf {shlex.quote(claim.lock_dir)}; fi",
        f"rmdir {shlex.quote(claim.run_dir)} 2>/dev/null",
        "true",
    ])


RELEASE_TIMEOUT_S = 15.0


def release_device_lock(connection: ShellConnection, claim: DeviceClaim) -> None:
    run_script(connection, release_script(claim), timeout_s=RELEASE_TIMEOUT_S)


def lock_lost_error(owner_text: str) -> DeviceInUse:
    owner = parse_owner(owner_text)
    who = owner.describe() if owner is not None else "another sweep (or removed by hand)"
    return DeviceInUse(f"this sweep's lock on the device was taken over by {who}; this sweep stops before its next "
                       "launch: resume it once the other sweep has finished")


def _integer(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if re.fullmatch(r"-?\d+", text) else None


def _one_line(text: str) -> str:
    return " ".join(text.split())
