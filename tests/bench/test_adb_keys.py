import stat

from adb_shell.auth.sign_pythonrsa import PythonRSASigner

from bench.adb.keys import ensure_key_pair, load_signer
from loopback.accepted_keys import parse_android_public_key, signature_matches


def test_key_is_created_with_mode_0600(tmp_path):
    key_path = ensure_key_pair(tmp_path / "android" / "adbkey")
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert (tmp_path / "android" / "adbkey.pub").read_text().split()[0]


def test_existing_key_is_never_replaced(tmp_path):
    key_path = ensure_key_pair(tmp_path / "adbkey")
    before = key_path.read_bytes()
    ensure_key_pair(key_path)
    assert key_path.read_bytes() == before


def test_missing_public_half_is_rebuilt_from_the_private_key(tmp_path):
    key_path = ensure_key_pair(tmp_path / "adbkey")
    public_path = tmp_path / "adbkey.pub"
    original = public_path.read_text().split()[0]
    public_path.unlink()
    ensure_key_pair(key_path)
    assert public_path.read_text().split()[0] == original


def test_signer_signature_verifies_against_the_public_key(tmp_path):
    signer = load_signer(tmp_path / "adbkey")
    assert isinstance(signer, PythonRSASigner)
    token = bytes(range(20))
    public_key = parse_android_public_key(signer.GetPublicKey())
    assert signature_matches(public_key, token, signer.Sign(token))
    assert not signature_matches(public_key, bytes(20), signer.Sign(token))
