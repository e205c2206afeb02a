"""Measurements of this project on the machine it runs on: ``study bench`` (bench.run).

One module per question: how fast the small-image backbones reach an accuracy (accuracy), how
close the routine comes to the model's bare compute (routine), what Ray Tune + Optuna + MLflow
add to a trial (orchestration), what the main job costs and how much of a trial evaluation takes
(main_job), how much memory a trial needs (memory), how many trials of each preset fit in an hour
(capacity), and ResNet-20 epochs on a CUDA device (device). The targets live in the output
(targets), never in timed tests; bench/README.md holds the figures measured so far.
"""
