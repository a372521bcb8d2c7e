"""What the cloud stage runs for a run: one client program per split configuration of the run, its cloud
remainder from the manifest, and the full program (the reference, and the cloud-only baseline's cloud side).
Every missing remainder is one clear error before the device is touched. Remainders of manifests from version 3
keep their weights in the export folder's one shared data file (`data_file`, export/shared_weights.py); from
version 4 the device programs' weights are there too, and the data file is pushed with them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.cloud.errors import CloudStageError, RemainderMissing
from bench.sweep.programs import LoadedManifest, Program, program_from_entry
from formats.manifest import ProgramEntry
from formats.paper import backend_sort_key
from formats.split_points import split_configuration_key

CLOUD_BACKEND = "xnnpack"
FULL_PROGRAM_ID = f"full.{CLOUD_BACKEND}"
DEVICE_FORMAT = "pte"  # the ExecuTorch runner writes --write-input/--write-output


@dataclass(frozen=True)
class SplitWork:
    """One split configuration: the client that runs on the device and the remainder that runs on the host."""

    configuration: str
    split_point: str
    client: Program
    remainder: Program
    reduction_k: int | None

    @property
    def exact_expected(self) -> bool:
        """A simple split computes exactly the full model; a reduced one approximates it (PCA)."""
        return self.reduction_k is None


@dataclass(frozen=True)
class CloudPlan:
    full: Program
    splits: list[SplitWork]


def remainder_configuration(entry: ProgramEntry) -> str:
    """Noisy configurations share the reduced configuration's remainder (export/README.md)."""
    configuration = entry.configuration
    if entry.noise is not None and configuration.endswith("_noisy"):
        return configuration[: -len("_noisy")]
    return configuration


def plan_cloud_work(manifest: LoadedManifest, run_program_ids: list[str],
                    configurations: tuple[str, ...] | None = None) -> CloudPlan:
    """The work for the run's client programs (one per configuration, the ExecuTorch one with the backend shown
    first); RemainderMissing when a remainder or the full program is not in the manifest."""
    folder = Path(manifest.path).parent
    entries = {entry.id: entry for entry in manifest.manifest.programs}
    if FULL_PROGRAM_ID not in entries or entries[FULL_PROGRAM_ID].role != "full":
        raise RemainderMissing(f"{manifest.path} has no {FULL_PROGRAM_ID} program (the reference of the end-to-end "
                               "check and the cloud-only baseline); export with the full model and the xnnpack backend")
    clients: dict[str, ProgramEntry] = {}
    for program_id in run_program_ids:
        entry = entries.get(program_id)
        if entry is None or entry.role != "client" or entry.format != DEVICE_FORMAT:
            continue
        current = clients.get(entry.configuration)
        if current is None or backend_sort_key(entry.backend) < backend_sort_key(current.backend):
            clients[entry.configuration] = entry
    if configurations:
        unknown = [name for name in configurations if name not in clients]
        if unknown:
            raise CloudStageError(f"--configs names {', '.join(unknown)}, not a client configuration of this run; "
                                  f"choose from {', '.join(sorted(clients, key=split_configuration_key))}")
        clients = {name: entry for name, entry in clients.items() if name in configurations}
    if not clients:
        raise CloudStageError("the run has no ExecuTorch (.pte) client program; sweep an export with split points")
    work = []
    missing = []
    for configuration in sorted(clients, key=split_configuration_key):
        entry = clients[configuration]
        remainder_id = f"{remainder_configuration(entry)}.cloud.{CLOUD_BACKEND}"
        remainder = entries.get(remainder_id)
        if remainder is None or remainder.role != "cloud":
            missing.append(f"{remainder_id} (for {entry.id})")
            continue
        work.append(SplitWork(configuration=configuration, split_point=str(entry.split_point),
                              client=program_from_entry(entry, folder, manifest.manifest),
                              remainder=program_from_entry(remainder, folder, manifest.manifest),
                              reduction_k=entry.reduction.k if entry.reduction else None))
    if missing:
        raise RemainderMissing(f"{manifest.path} lacks the cloud remainder(s) {', '.join(missing)}; re-export with "
                               f"--cloud-backends {CLOUD_BACKEND} (scripts/split_study.sh does)")
    full = program_from_entry(entries[FULL_PROGRAM_ID], folder, manifest.manifest)
    for program in [full, *(w.remainder for w in work), *(w.client for w in work)]:
        if not program.local_path.is_file():
            raise CloudStageError(f"{program.local_path} (program {program.program_id}) is missing; re-run the export")
        weights = program.data_local_path
        if weights is not None and not weights.is_file():
            raise CloudStageError(f"{weights} (the weights of {program.program_id}) is missing; re-run the export")
    return CloudPlan(full=full, splits=work)
