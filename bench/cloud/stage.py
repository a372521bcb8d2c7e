"""The cloud stage of a run folder, from run.json to cloud.jsonl, link.json and layer_profile.json.

open_cloud_run does only local work (run.json, manifest, plan: every bad input fails here); run_cloud_stage
then talks to the device: facts, runner, deploy (only what differs), the input image, the link measurement,
one file-writing launch per split configuration with the host check after each, the cloud-only baseline, and
the ETDump launch of the full program."""

from __future__ import annotations

import posixpath
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.adb.reconnect import DeviceLink
from bench.cloud.device_files import (
    ETDUMP_FILE,
    FileLaunch,
    FileLaunchOutcome,
    cloud_device_dir,
    remove_device_dir,
    run_file_launch,
)
from bench.cloud.end_to_end import CheckSettings, check_split, cloud_only_row
from bench.cloud.errors import CloudStageError
from bench.cloud.host_runtime import HostProgram
from bench.cloud.input_image import JPEG_QUALITY, load_input_image
from bench.cloud.layer_profile import build_layer_profile
from bench.cloud.link_probe import LinkProbeSettings, measure_link
from bench.cloud.plan import CloudPlan, plan_cloud_work
from bench.device.facts import collect_device_facts
from bench.sweep.deploy import DeviceLayout, deploy, deploy_items
from bench.sweep.loop import device_call
from bench.sweep.programs import LoadedManifest, load_manifest_file
from bench.sweep.runners import find_runner_bundle
from formats.cloud_results import CLOUD_FILE, CloudRow, CloudRowWriter
from formats.layer_profile import LAYER_PROFILE_FILE, LayerProfile, write_layer_profile
from formats.link_measurement import LINK_FILE, LinkMeasurement, write_link_measurement
from formats.run_info import RUN_FILE, read_run_info

IMAGE_FILE = "image.raw"


@dataclass(frozen=True)
class CloudStageSettings:
    check: CheckSettings = field(default_factory=CheckSettings)
    link: LinkProbeSettings | None = field(default_factory=LinkProbeSettings)  # None: do not measure the link
    profile_iterations: int | None = 10  # None: no ETDump profile
    configurations: tuple[str, ...] | None = None
    jpeg_quality: int = JPEG_QUALITY
    keep_files_dir: Path | None = None  # keep the pulled files there (else a temporary folder)


@dataclass
class OpenedCloudRun:
    folder: Path
    run_id: str
    info: dict
    manifest: LoadedManifest
    plan: CloudPlan
    core: int


@dataclass
class CloudStageReport:
    rows: list[CloudRow]
    link: LinkMeasurement | None
    profile: LayerProfile | None
    profile_skipped: str | None
    files: dict[str, Path]


def open_cloud_run(run_folder: Path, configurations: tuple[str, ...] | None = None) -> OpenedCloudRun:
    """run.json, its manifest and the plan; CloudStageError / RemainderMissing / FormatError on bad input."""
    run_folder = Path(run_folder)
    if not (run_folder / RUN_FILE).is_file():
        raise CloudStageError(f"{run_folder} is not a run folder ({RUN_FILE} is missing); pass results/<run_id> "
                              "of a sweep")
    info = read_run_info(run_folder / RUN_FILE, advice="pass the folder of a finished sweep")
    manifest = load_manifest_file(Path(info["manifest"]["path"]))
    if manifest.sha256 != info["manifest"]["sha256"]:
        raise CloudStageError(f"{manifest.path} changed since run {info['run_id']} was swept (sha256 differs); "
                              "run the cloud stage with the manifest the sweep used, or sweep again")
    plan = plan_cloud_work(manifest, list(info.get("programs") or []), configurations)
    return OpenedCloudRun(run_folder, info["run_id"], info, manifest, plan, int(info["core"]))


def run_cloud_stage(opened: OpenedCloudRun, serial_spec: str, link: DeviceLink,
                    settings: CloudStageSettings = CloudStageSettings(), build_root: Path | None = None,
                    runner_bundle_dir: Path | None = None, on_step: Callable[[str], None] = lambda _: None
                    ) -> CloudStageReport:
    run_id = opened.run_id
    model = opened.manifest.data.get("model") or {}
    image = load_input_image(int(model.get("input_size") or opened.plan.full.input_shape[-1]), settings.jpeg_quality)
    if list(image.tensor.shape) != list(opened.plan.full.input_shape):
        raise CloudStageError(f"the full program takes {list(opened.plan.full.input_shape)}, the image is "
                              f"{list(image.tensor.shape)}; the manifest's model input size is inconsistent")
    device = device_call(link, run_id, lambda c: collect_device_facts(c, serial_spec))
    bundle = find_runner_bundle(device, build_root=build_root, folder=runner_bundle_dir)
    layout = DeviceLayout.for_bundle(bundle)
    programs = [opened.plan.full, *(work.client for work in opened.plan.splits)]
    on_step(f"deploy: runner and {len(programs)} program(s)")
    report = device_call(link, run_id, lambda c: deploy(c, deploy_items(bundle, programs, layout), layout))
    if report.failures:
        first = next(iter(report.failures.items()))
        raise CloudStageError(f"could not put {first[0]} on the device ({first[1]}); free space and retry")
    stage_dir = posixpath.join(layout.root, "cloud", run_id)
    image_device_path = posixpath.join(stage_dir, IMAGE_FILE)
    files = {}
    with tempfile.TemporaryDirectory(prefix="splitbench-cloud-") as scratch:
        local_root = Path(settings.keep_files_dir or scratch)
        local_image = local_root / IMAGE_FILE
        local_root.mkdir(parents=True, exist_ok=True)
        local_image.write_bytes(image.raw_bytes)
        device_call(link, run_id, lambda c: (c.shell(["mkdir", "-p", stage_dir]), c.push(str(local_image),
                                                                                          image_device_path)))
        measured_link = None
        if settings.link is not None:
            on_step("link: push throughput and round trip over adb")
            measured_link = device_call(link, run_id, lambda c: measure_link(
                c, posixpath.join(stage_dir, "link"), run_id, serial_spec, settings.link))
            files["link"] = opened.folder / LINK_FILE
            write_link_measurement(files["link"], measured_link)
        full = HostProgram.load(opened.plan.full.local_path, opened.plan.full.data_local_path)
        rows = []
        files["cloud"] = opened.folder / CLOUD_FILE
        with CloudRowWriter(files["cloud"]) as writer:
            for work in opened.plan.splits:
                on_step(f"split {work.configuration}: {work.client.program_id} on the device, "
                        f"{work.remainder.program_id} on the host")
                outcome = device_file_launch(link, run_id, layout, FileLaunch(
                    program=work.client, core=opened.core, input_path=image_device_path,
                    device_dir=cloud_device_dir(layout, run_id, work.client.program_id)),
                    local_root / work.client.program_id)
                row = check_split(run_id, work, outcome, image, full, settings.check)
                writer.write(row)
                rows.append(row)
            on_step("cloud only: the image to the host, the full program there")
            row = cloud_only_row(run_id, image, full, opened.plan.full.program_id, settings.check)
            writer.write(row)
            rows.append(row)
        profile, skipped = None, None
        if settings.profile_iterations is not None:
            on_step(f"profile: {opened.plan.full.program_id} with --etdump, {settings.profile_iterations} runs")
            profile, skipped = profile_full_program(link, run_id, layout, opened, image_device_path,
                                                    settings.profile_iterations, local_root / "profile")
            if profile is not None:
                files["profile"] = opened.folder / LAYER_PROFILE_FILE
                write_layer_profile(files["profile"], profile)
        device_call(link, run_id, lambda c: remove_device_dir(c, stage_dir))
    return CloudStageReport(rows, measured_link, profile, skipped, files)


def device_file_launch(link: DeviceLink, run_id: str, layout: DeviceLayout, launch: FileLaunch,
                       local_dir: Path) -> FileLaunchOutcome:
    return device_call(link, run_id, lambda c: run_file_launch(c, layout, launch, local_dir))


def profile_full_program(link: DeviceLink, run_id: str, layout: DeviceLayout, opened: OpenedCloudRun,
                         image_device_path: str, iterations: int, local_dir: Path
                         ) -> tuple[LayerProfile | None, str | None]:
    """The full program's per-layer profile, or (None, why) when the device's runner cannot trace."""
    full = opened.plan.full
    launch = FileLaunch(program=full, core=opened.core, input_path=image_device_path, iterations=iterations,
                        warmup=1, write_io=False, etdump=True,
                        device_dir=cloud_device_dir(layout, run_id, f"{full.program_id}.etdump"))
    outcome = device_file_launch(link, run_id, layout, launch, local_dir)
    if outcome.status != "ok":
        message = (outcome.runner or {}).get("message") or outcome.stderr[-300:]
        return None, f"the ETDump launch ended {outcome.status}: {message}"
    profile = build_layer_profile(outcome.local_files[ETDUMP_FILE], run_id, full.program_id, full.backend,
                                  opened.core, iterations)
    return profile, None
