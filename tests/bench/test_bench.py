"""`study bench`: the tiny size runs end to end and writes every field; targets are parsed, never timed."""

from __future__ import annotations

import json
import math

import pytest

from bench.accuracy import race_summary
from bench.stats import fmt_interval, mean_interval, ratio_interval
from bench.targets import TARGETS, meets

FIELDS = (
    "time_to_accuracy_speedup",
    "routine_share_of_ceiling",
    "orchestration_overhead",
    "evaluation_share",
    "main_job_minutes",
    "peak_memory_mb",
    "main_job_minutes_is_extrapolation",
    "pool_cnn_matches_small_cnn",
    "ray_startup_s",
    "import_s",
    "trials_per_hour",
    "targets",
    "meets_targets",
)


@pytest.mark.parametrize(
    "value, target, expected",
    [
        (2.0, ">= 2.0", True),
        (1.99, ">= 2.0", False),
        (1.15, "<= 1.15", True),
        (1.2, "<= 1.15", False),
        (1499.0, "< 1500", True),
        (1500.0, "< 1500", False),
        (3.0, "> 2", True),
    ],
)
def test_meets_compares_against_the_target(value, target, expected):
    assert meets(value, target) is expected


def test_a_malformed_target_names_itself():
    with pytest.raises(ValueError, match="'about 2'"):
        meets(1.0, "about 2")


def test_every_target_parses():
    for target in TARGETS.values():
        meets(1.0, target)


def _run(val_accuracies, seconds_per_epoch, test=0.5):
    curve = [
        {
            "wall_s": seconds_per_epoch * (e + 1),
            "cpu_s": seconds_per_epoch * (e + 1),
            "val_accuracy": a,
        }
        for e, a in enumerate(val_accuracies)
    ]
    return {
        "curve": curve,
        "wall_s": curve[-1]["wall_s"],
        "cpu_s": curve[-1]["cpu_s"],
        "val_accuracy": val_accuracies[-1],
        "test_accuracy": test,
    }


def _races(small: list[float], pools: dict[float, list[float]], seconds: float = 0.25) -> dict:
    """small_cnn's runs (final val accuracies, 32 epochs of 1 s) against pool_cnn's schedules
    (fraction -> final val accuracies, ``seconds`` per epoch)."""
    return {
        "small_cnn": {1.0: [_run([0.5] * 31 + [a], 1.0) for a in small]},
        "pool_cnn": {
            f: [_run([0.5] * (round(32 * f) - 1) + [a], seconds) for a in accuracies]
            for f, accuracies in pools.items()
        },
    }


def test_the_race_takes_the_shortest_schedule_that_reaches_small_cnns_accuracy():
    small = [0.93, 0.94, 0.935, 0.93]
    race = race_summary(
        _races(
            small,
            {
                1.0: [0.945, 0.95, 0.945, 0.94],
                0.5: [0.935, 0.945, 0.94, 0.935],  # +0.005 on every seed: reaches it
                1 / 3: [0.90, 0.92, 0.91, 0.93],  # 2 points below: does not
            },
        )
    )
    assert [s["reaches"] for s in race["schedules"]] == [False, True, True]
    assert race["reached"] and race["fraction"] == 0.5 and race["pool_cnn_epochs"] == 16
    # 32 s against 16 epochs of 0.25 s on every seed
    assert race["time_to_accuracy_speedup"] == pytest.approx(8.0)
    half = race["schedules"][1]
    assert half["val_accuracy_difference"]["mean"] == pytest.approx(0.005)


def test_a_race_no_schedule_reaches_has_no_speedup_and_says_so():
    race = race_summary(_races([0.93, 0.94], {1.0: [0.90, 0.93], 0.5: [0.88, 0.90]}))
    assert race["time_to_accuracy_speedup"] is None and not race["reached"]
    assert "no schedule of pool_cnn reaches" in race["note"]


def test_a_shortened_schedule_scales_its_epochs_and_lr_milestones():
    from bench.accuracy import glyph_race, shortened

    flat = glyph_race("cpu")
    assert (flat["train.epochs"], flat["optim.lr_milestones"]) == (32, "16,24")
    half, third = shortened(flat, 0.5), shortened(flat, 1 / 3)
    assert (half["train.epochs"], half["optim.lr_milestones"]) == (16, "8,12")
    assert (third["train.epochs"], third["optim.lr_milestones"]) == (11, "5,8")
    assert shortened({"train.epochs": 3}, 0.1)["train.epochs"] == 1


def test_intervals_cover_the_mean_and_need_two_values():
    interval = mean_interval([0.1, 0.2, 0.3])
    assert interval["low"] < 0.2 < interval["high"] and interval["mean"] == pytest.approx(0.2)
    assert mean_interval([0.1])["low"] is None
    ratio = ratio_interval([2.0, 8.0])
    assert ratio["mean"] == pytest.approx(4.0) and ratio["low"] < 4.0 < ratio["high"]
    # equal values: no interval of width 0, and the printed figure says why
    same = ratio_interval([3.0, 3.0])
    assert same["low"] is None and same["mean"] == pytest.approx(3.0)
    assert fmt_interval(same) == "3.00 (no spread in 2 runs: no interval)"
    assert fmt_interval(mean_interval([0.1] * 3)) == "0.10 (no spread in 3 runs: no interval)"
    assert fmt_interval(mean_interval([0.1])) == "0.10 (n=1: no interval)"


def test_the_overhead_interval_covers_a_known_ratio_and_narrows_with_more_trials():
    """Simulated trials with a known truth: a study that pays 10 s once and 0.3 s per trial over
    loop twins of 7 s (each side scattering by 0.5 s). The 95% interval holds the true ratio in
    about 95% of repetitions and is narrower over 80 trials than over 20."""
    import numpy as np

    from bench.orchestration import overhead_interval

    rng = np.random.default_rng(3)

    def one(trials: int) -> tuple[float, float, float]:
        own = rng.normal(7.0, 0.5, trials)  # the trials' own seconds
        loop = own + rng.normal(0, 0.5, trials)
        study = own + 0.3 + rng.normal(0, 0.5, trials)
        truth = (10.0 + trials * 7.3) / (trials * 7.0)
        return truth, *overhead_interval(10.0, study, loop)

    runs = [one(20) for _ in range(60)]
    covered = np.mean([low <= truth <= high for truth, low, high in runs])
    assert covered >= 0.85, covered
    width_20 = np.median([high - low for _, low, high in runs])
    width_80 = np.median([high - low for _, low, high in (one(80) for _ in range(20))])
    assert width_80 < 0.7 * width_20 and 0.01 < width_20 < 0.1


def test_the_evaluation_share_interval_covers_a_known_share():
    """Simulated loop trials with a known truth: 5 class counts whose evaluation takes 3% to 17% of
    a trial, 8 trials each. The interval (resampling within each class count) holds the true share
    in most repetitions, and one trial per class count gives none."""
    import numpy as np

    from bench.main_job import evaluation_share

    rng = np.random.default_rng(5)
    fractions = np.array([0.03, 0.06, 0.09, 0.13, 0.17])
    truth = fractions.mean()  # every class count's trials last 7 s on average

    def trials() -> list[dict[str, float]]:
        out = []
        for fraction in fractions:
            for wall in rng.normal(7.0, 0.5, 8):
                evaluation = fraction * wall + rng.normal(0, 0.05)
                out.append(
                    {
                        "wall_s": wall,
                        "eval_wall_s": evaluation,
                        "cpu_s": wall,
                        "eval_cpu_s": evaluation,
                    }
                )
        return out

    found = [evaluation_share(trials(), 8) for _ in range(100)]
    covered = np.mean(
        [low <= truth <= high for low, high in (f["evaluation_share_interval"] for f in found)]
    )
    assert covered >= 0.88, covered
    assert all(abs(f["evaluation_share"] - truth) < 0.01 for f in found)
    one_each = evaluation_share(trials()[::8], 1)
    assert all(v != v for v in one_each["evaluation_share_interval"])


def test_the_main_job_minutes_interval_covers_the_job_its_trials_imply():
    """Simulated loop trials of the default main job with a known truth: each class count's epochs
    take a known mean time (with scatter). The extrapolation of noiseless trials is the truth; the
    interval from noisy ones (Welch's, over the class counts' trials) holds it in most repetitions,
    and one trial per class count gives none."""
    import numpy as np

    from bench.main_job import extrapolate, group_costs, minutes_interval
    from bench.trials import main_job_spec

    spec = main_job_spec("cpu")
    epochs = [int(g["train.epochs"]) for g in spec.groups]
    epoch_s = [0.25, 0.4, 0.6, 0.9, 1.4]  # the fewer epochs, the more classes
    data = {"render_s": [2.0] * 5, "render_cpu_s": [2.0] * 5, "inventory_s": 0.0}
    orchestration = {
        "first_trial_start_s": 3.0,
        "first_trial_extra_s": 1.0,
        "ray_startup_s": 2.0,
        "import_s": 3.0,
        "store_setup_s": 1.0,
        "steady_overhead_per_trial_s": 0.05,
    }
    rng = np.random.default_rng(11)

    def trials(per_group: int, sd: float) -> list[dict]:
        out = []
        for n, mean in zip(epochs, epoch_s):
            for _ in range(per_group):
                each = np.maximum(0.01, mean + rng.normal(0, sd * mean, n))
                cumulative = np.cumsum(each)
                curve = [{"wall_s": c, "cpu_s": c, "val_accuracy": 0.5} for c in cumulative]
                total = float(cumulative[-1])
                out.append(
                    {
                        "wall_s": total,
                        "cpu_s": total,
                        "eval_wall_s": 0.0,
                        "eval_cpu_s": 0.0,
                        "curve": curve,
                        "val_accuracy": 0.5,
                    }
                )
        return out

    def job(found: list[dict], per_group: int) -> tuple[float, tuple[float, float]]:
        costs = group_costs(spec, found, per_group)
        minutes = extrapolate(spec, costs, data, orchestration, 2)["main_job_minutes"]
        return minutes, minutes_interval(spec, found, per_group, data, orchestration, 2)

    truth, _ = job(trials(2, 0.0), 2)
    found = [job(trials(8, 0.15), 8) for _ in range(100)]
    covered = np.mean([low <= truth <= high for _, (low, high) in found])
    assert covered >= 0.9, covered
    assert all(low < minutes < high for minutes, (low, high) in found)
    assert all(abs(minutes / truth - 1) < 0.05 for minutes, _ in found)
    _, one_each = job(trials(1, 0.15), 1)
    assert all(v != v for v in one_each)


def test_the_memory_probe_runs_in_a_fresh_process():
    from bench.memory import peak_memory_mb

    assert 50 < peak_memory_mb({}) < 1500  # torch and the routine imported, nothing trained


def test_bench_rejects_an_unknown_size_on_one_line(cli):
    done = cli("bench", "--size", "huge")
    assert done.returncode == 2
    assert "invalid choice: 'huge'" in done.stderr.strip()


@pytest.mark.parametrize(
    "only, said",
    [
        ("routine,fast", "unknown section 'fast'; choose from races, match, routine, main-job"),
        ("capacity", "section 'capacity' needs 'main-job' too"),
        (",", "--only ',': names no section; choose from races, match"),
        (" , ", "names no section"),
    ],
)
def test_bench_only_names_a_bad_section_on_one_line(cli, tmp_path, only, said):
    out = tmp_path / "bench.json"
    done = cli("bench", "--only", only, "--json", str(out))
    assert done.returncode == 2
    assert said in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not out.exists() and not (tmp_path / "bench.json.partial").exists()


@pytest.mark.slow
def test_bench_only_runs_the_named_sections(study_cli, tmp_path):
    out = tmp_path / "bench.json"
    done = study_cli("bench", "--size", "tiny", "--only", "memory", "--json", str(out), timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["sections"] == ["memory"] and result["meets_targets"] == {"peak_memory_mb": True}
    assert 50 < result["peak_memory_mb"] < 1500
    for left_out in (
        "routine",
        "orchestration",
        "time_to_accuracy",
        "routine_share_of_ceiling",
        "gpu",
    ):
        assert left_out not in result
    assert "--only memory" in done.stdout and "routine_share_of_ceiling" not in done.stdout


@pytest.mark.slow
def test_tiny_bench_writes_every_field(study_cli, tmp_path):
    out = tmp_path / "bench.json"
    done = study_cli("bench", "--size", "tiny", "--json", str(out), timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    for field in FIELDS:
        assert field in result, field
    for ratio in (
        "routine_share_of_ceiling",
        "orchestration_overhead",
        "evaluation_share",
        "main_job_minutes",
        "peak_memory_mb",
    ):
        assert result[ratio] > 0, ratio
    assert 0 < result["evaluation_share"] < 1
    assert result["main_job_minutes_is_extrapolation"] is True
    # one trial per class count: the extrapolation has no interval, and says so
    assert all(v != v for v in result["main_job"]["extrapolated_minutes_interval"])
    assert "no interval (one trial per class count)" in done.stdout
    assert set(result["time_to_accuracy"]["races"]) == {"glyphs", "digits"}
    glyphs = result["time_to_accuracy"]["races"]["glyphs"]
    assert (glyphs["time_to_accuracy_speedup"] is None) == (not glyphs["reached"])
    assert [round(s["fraction"], 3) for s in glyphs["schedules"]] == [0.333, 0.5, 0.75, 1.0]
    assert glyphs["schedules"][-1]["epochs"] == glyphs["epochs"] > glyphs["schedules"][0]["epochs"]
    assert result["time_to_accuracy_speedup"] == glyphs["time_to_accuracy_speedup"]
    assert set(result["pool_cnn_matches_small_cnn"]) == {"smoke/smoke"}
    assert {k: v for k, v in result["targets"].items() if k in TARGETS} == TARGETS
    assert all(v is None or isinstance(v, bool) for v in result["meets_targets"].values())
    assert result["orchestration"]["identical_trials"] is True
    # the main job's smoke size: one trial at each of 3 class counts
    o = result["orchestration"]
    assert o["trials"] == 3
    # what is paid once weighs less over more trials; each projection rebuilds from the parts
    assert o["projected_overhead_20_trials"] >= o["projected_overhead_100_trials"] >= 1.0
    once = o["first_trial_start_s"] + o["first_trial_extra_s"]
    assert math.isclose(
        o["projected_overhead_20_trials"],
        (20 * (o["trial_s"] + o["steady_overhead_per_trial_s"]) + once) / (20 * o["trial_s"]),
    )
    assert "projected over 20 trials" in done.stdout
    assert [c["num_classes"] for c in result["main_job"]["per_class_count"]] == result["main_job"][
        "class_counts"
    ]
    from bench.trials import main_job_spec
    from study.stages import planned_trials

    # both stages of the smoke design
    assert result["main_job"]["trials"] == planned_trials(main_job_spec("smoke"))
    assert "skipped" in result["gpu"]
    assert result["trials_per_hour"]["smoke"]["smoke"] > 0
    assert (
        "ESTIMATE" in done.stdout
        and "EXTRAPOLATED" in done.stdout
        and "time_to_accuracy_speedup" in done.stdout
    )


def test_the_device_epoch_runs_resnet20_on_cifar10_sized_tensors():
    from bench.device import cifar10_sized, measure_device_epochs

    bundle = cifar10_sized(train_images=64, val_images=16, test_images=16)
    assert tuple(bundle.train.x.shape) == (64, 3, 32, 32) and bundle.num_classes == 10
    result = measure_device_epochs("cpu", epochs=3, train_images=64, val_images=16, test_images=16)
    assert (
        result["model"] == "resnet20"
        and result["train_images"] == 64
        and len(result["epoch_times_s"]) == 3
    )
    # the one epoch between the first and the last
    assert result["epoch_s"] == result["epoch_times_s"][1]
    assert result["images_per_s"] == pytest.approx(64 / result["epoch_s"])
