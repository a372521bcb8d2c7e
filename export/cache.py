"""Content-addressed reuse of exported programs: a program is rewritten only when its inputs changed."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from export.models import file_sha256
from formats.manifest import ProgramEntry

# Bump when a change to export/ alters the programs it writes for the same inputs.
EXPORTER_REVISION = 2


def program_cache_key(*, program_id: str, configuration: str, role: str, split_point: str | None, backend: str,
                      arch: str, weights_id: str, model_id: str, projection_key: str | None,
                      noise_variance: float | None, tools: dict[str, str], quantization: dict | None = None) -> str:
    """Hex sha256 over everything that determines a program's bytes: also the architecture, and for int8
    programs `quantization` (scheme, calibration and held-out images: they decide its bytes and its accuracy)."""
    material = {
        "exporter_revision": EXPORTER_REVISION, "program_id": program_id, "configuration": configuration,
        "role": role, "split_point": split_point, "backend": backend, "arch": arch, "weights": weights_id,
        "model": model_id,
        "projection": projection_key, "noise_variance": noise_variance, "tools": tools,
        "quantization": quantization,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def reusable_entry(previous: ProgramEntry | None, cache_key: str, out_dir: Path) -> ProgramEntry | None:
    """The previous entry if it has the same key and its file still has the recorded size and sha256."""
    if previous is None or previous.cache_key != cache_key:
        return None
    path = out_dir / previous.file
    if not path.is_file() or path.stat().st_size != previous.size_bytes:
        return None
    return previous if file_sha256(path) == previous.sha256 else None
