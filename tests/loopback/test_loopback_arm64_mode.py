"""The loopback device's arm64 mode: an emulated Android arm64 phone that runs pushed aarch64 programs
through qemu-aarch64 (binfmt_misc), with this host's real CPU facts.

Needs Debian's qemu-user-static (qemu-aarch64 registered with binfmt_misc) and gcc-aarch64-linux-gnu.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from bench.adb.serials import SerialKind, parse_serial
from bench.adb.target import device_connector
from bench.device.facts import collect_device_facts, parse_cpu_list
from loopback import LoopbackDevice
from loopback.abi_mode import check_arm64_emulation
from loopback.errors import LoopbackDeviceError

pytestmark = pytest.mark.slow  # cross-compiles an aarch64 program

AARCH64_PROGRAM = r"""
#include <stdio.h>
#include <sys/utsname.h>
int main(void) {
    long sum, a = 40, b = 2;
    __asm__("add %x0, %x1, %x2" : "=r"(sum) : "r"(a), "r"(b));  /* an A64 instruction */
    struct utsname names;
    uname(&names);
    printf("aarch64 add=%ld pointer_bytes=%zu machine=%s\n", sum, sizeof(void *), names.machine);
    return 7;
}
"""


@pytest.fixture(scope="module")
def aarch64_program(tmp_path_factory) -> Path:
    compiler = shutil.which("aarch64-linux-gnu-gcc")
    if compiler is None:
        pytest.fail("aarch64-linux-gnu-gcc is needed: run `sudo apt-get install -y gcc-aarch64-linux-gnu`")
    folder = tmp_path_factory.mktemp("aarch64")
    (folder / "hello.c").write_text(AARCH64_PROGRAM)
    subprocess.run([compiler, "-static", "-O1", "-o", str(folder / "hello"), str(folder / "hello.c")],
                   check=True, capture_output=True, timeout=120)
    return folder / "hello"


@pytest.fixture
def arm64_connection():
    with device_connector("loopback-arm64") as connect:
        connection = connect()
        try:
            yield connection
        finally:
            connection.close()


def test_loopback_arm64_is_a_loopback_serial():
    assert parse_serial("loopback-arm64").kind is SerialKind.LOOPBACK


def test_a_pushed_aarch64_program_runs_through_the_shell(arm64_connection, aarch64_program):
    arm64_connection.push(aarch64_program, "/data/local/tmp/hello", mode=0o755)
    result = arm64_connection.shell(["/data/local/tmp/hello"])
    assert result.exit_code == 7
    assert result.output.strip() == "aarch64 add=42 pointer_bytes=8 machine=aarch64"


def test_getprop_and_uname_answer_as_an_emulated_android_arm64_phone(arm64_connection):
    def answer(command: str) -> str:
        return arm64_connection.shell_text(command).output.strip()

    assert answer("getprop ro.product.cpu.abi") == "arm64-v8a"
    assert answer("getprop ro.product.cpu.abilist") == "arm64-v8a"
    assert answer("getprop ro.build.version.sdk") == "34"
    assert answer("getprop ro.build.version.release") == "14"
    assert answer("getprop ro.boot.qemu") == "1" and answer("getprop ro.kernel.qemu") == "1"
    assert answer("uname -m") == "aarch64"
    assert answer("uname -o") == "Toybox"
    assert answer("uname -a").endswith(" aarch64 Toybox")
    assert answer("uname -s") == "Linux"


def test_device_facts_report_android_arm64_with_this_hosts_cores(arm64_connection):
    facts = collect_device_facts(arm64_connection, arm64_connection.serial.text)
    assert (facts.platform, facts.abi, facts.android_sdk) == ("android", "arm64-v8a", 34)
    assert (facts.loopback, facts.emulator, facts.cpu_emulation) == (True, True, "qemu-aarch64")
    assert (facts.machine, facts.kernel_os) == ("aarch64", "Toybox")
    assert "qemu-aarch64-emulated" in facts.fingerprint
    host_online = parse_cpu_list(Path("/sys/devices/system/cpu/online").read_text())
    assert facts.online_core_indices == host_online


def test_the_host_mode_is_unchanged(tmp_path):
    with device_connector("loopback") as connect:
        with connect() as connection:
            assert connection.shell_text("getprop ro.build.version.sdk").output.strip() == "0"
            assert connection.shell_text("uname -m").output.strip() == subprocess.run(
                ["uname", "-m"], capture_output=True, text=True, check=True).stdout.strip()


def test_an_unsupported_abi_is_one_clear_error(tmp_path):
    with pytest.raises(LoopbackDeviceError, match="give arm64-v8a"):
        LoopbackDevice(tmp_path / "sandbox", abi="mips").start()


def test_a_missing_or_disabled_qemu_aarch64_registration_says_how_to_register(tmp_path):
    with pytest.raises(LoopbackDeviceError, match="does not exist.*update-binfmts --enable qemu-aarch64"):
        check_arm64_emulation(tmp_path)
    (tmp_path / "qemu-aarch64").write_text("disabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\n")
    with pytest.raises(LoopbackDeviceError, match="is disabled.*update-binfmts --enable qemu-aarch64"):
        check_arm64_emulation(tmp_path)
    (tmp_path / "qemu-aarch64").write_text("enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\n")
    check_arm64_emulation(tmp_path)
