import pytest

from bench.adb.serials import InvalidSerial, SerialKind, parse_serial


def test_host_and_port():
    serial = parse_serial("192.168.1.20:5555")
    assert (serial.kind, serial.host, serial.port) == (SerialKind.TCP, "192.168.1.20", 5555)


def test_emulator_serial_is_adbd_on_console_port_plus_one():
    serial = parse_serial("emulator-5554")
    assert (serial.kind, serial.host, serial.port) == (SerialKind.TCP, "127.0.0.1", 5555)


def test_ipv6_host_in_brackets():
    serial = parse_serial("[::1]:5037")
    assert (serial.host, serial.port) == ("::1", 5037)


def test_loopback_is_its_own_kind():
    assert parse_serial("loopback").kind is SerialKind.LOOPBACK


def test_bare_usb_serial():
    serial = parse_serial("84B5T15A10010126")
    assert (serial.kind, serial.usb_serial) == (SerialKind.USB, "84B5T15A10010126")


def test_android_serial_is_used_when_none_given():
    serial = parse_serial(None, environ={"ANDROID_SERIAL": "emulator-5556"})
    assert serial.port == 5557


def test_explicit_serial_wins_over_android_serial():
    assert parse_serial("loopback", environ={"ANDROID_SERIAL": "emulator-5556"}).kind is SerialKind.LOOPBACK


def test_nothing_given_says_what_to_pass():
    with pytest.raises(InvalidSerial, match="ANDROID_SERIAL"):
        parse_serial(None, environ={})


@pytest.mark.parametrize("text", ["host:99999", "host:0", "two words", "a:b:c"])
def test_bad_serials_are_refused(text):
    with pytest.raises(InvalidSerial):
        parse_serial(text)
