"""A device that completes the ADB handshake and then never answers: one clear line naming the device, the
command and what to do."""

from __future__ import annotations

import socket
import threading

import pytest
from sweep_fakes import write_manifest

from bench import run_device
from bench.device import facts
from loopback import wire


@pytest.fixture
def silent_device():
    """127.0.0.1:PORT of a device that answers CNXN (no authentication) and then reads without answering."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    peers = []

    def serve():
        while True:
            try:
                peer, _ = listener.accept()
            except OSError:
                return
            peers.append(peer)
            wire.read_message(peer, verify_checksum=False, max_payload_bytes=wire.MAX_PAYLOAD_BYTES)
            peer.sendall(wire.Message(wire.CNXN, wire.VERSION_CHECKSUMMED, wire.MAX_PAYLOAD_BYTES,
                                      b"device::ro.product.name=silent;features=shell_v2\0").encode())
            threading.Thread(target=lambda p=peer: [None for _ in iter(lambda: p.recv(65536), b"")],
                             daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield f"127.0.0.1:{listener.getsockname()[1]}"
    listener.close()
    for peer in peers:
        peer.close()


@pytest.mark.slow
def test_a_device_silent_after_the_handshake_is_one_clear_line(silent_device, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(facts, "FACTS_TIMEOUT_S", 2.0)
    manifest = write_manifest(tmp_path / "export", ["full"])
    code = run_device.main(["--serial", silent_device, "--manifest", str(manifest), "--out", str(tmp_path / "out"),
                            "--adb-key", str(tmp_path / "adbkey")])
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    assert code == 2 and len(err) == 1, err
    line = err[0]
    assert line.startswith(f"error: {silent_device} gave no answer to `sh -c uname -o 2>/dev/null ...` within 2 s")
    assert f"`adb -s {silent_device} shell echo ok` answers, then run again" in line
    assert "timeout_s" not in line and len(line) < 300
    options = {action.dest for action in run_device.build_parser()._actions}
    assert all(word[2:].replace("-", "_") in options for word in line.split() if word.startswith("--"))
