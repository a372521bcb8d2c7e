"""Export stage of splitbench: VGG-16 and the client/cloud halves of the split model as ExecuTorch (.pte)
and TorchScript Lite (.ptl) programs, described by a versioned manifest (docs/formats.md, section 1).

Entry points: `export.config.ExportConfig`, `export.pipeline.run_export`, `formats.manifest.load_manifest`,
and the command line `python -m export`.
"""
