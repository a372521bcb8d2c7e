"""The cloud stage of a run: the other half of split inference, measured (python -m bench.cloud RUN_FOLDER).

For each client program of a run it launches the runner on the device once more on a known image with
--write-input/--write-output, pulls both files, runs the cloud remainder on this host ("the cloud": ExecuTorch
XNNPACK through executorch.runtime, all host cores) on the very bytes the device produced, times it, and checks
the prediction against the full program's on the same input. It also measures the link to the device (push
throughput, round trip) and profiles the full program per layer from the runner's ETDump.
"""
