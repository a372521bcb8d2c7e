"""Statistics shared by the sweep (its stopping rule) and the report: bootstrap intervals of a median and whether
two intervals tell their medians apart. The bottom layer beside formats/: it imports nothing of the project."""
