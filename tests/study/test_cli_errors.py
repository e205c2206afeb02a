"""Bad input: one line naming the problem and what is allowed, exit code 2, nothing written. The
cases run ``study.cli.main`` in this process (the ``cli`` fixture); a few run as a real process too."""

from __future__ import annotations

from pathlib import Path

import pytest

GOOD_BASE = "{data.name: digits, train.epochs: 1}"

FLAG_CASES = [
    (["run", "--preset", "no-such-preset"], "unknown preset 'no-such-preset'"),
    (["run", "--trials", "-2"], "-2 is not positive"),
    (["run", "--trials", "zero"], "'zero' is not a whole number"),
    (["run", "--trials", "0"], "0 is not positive"),
    (["run", "--trials", "2.5"], "'2.5' is not a whole number"),
    (["run", "--tracking-uri", "http://127.0.0.1:9/"], "no MLflow server answers"),
    (["run", "--tracking-uri", "sqlite:////no/such/dir/mlflow.db"], "/no/such/dir does not exist"),
    (["run", "--tracking-uri", "ftp://example/store"], "unsupported scheme"),
    (["run", "--sampler", "annealing"], "--sampler 'annealing' is unknown"),
    (["run", "--scheduler", "hyperband9"], "--scheduler 'hyperband9' is unknown"),
    (["run", "--size", "huge"], "invalid choice: 'huge'"),
    (["run", "--gpus-per-trial", "-1"], "-1 is negative"),
    (["run", "--cpus-per-trial", "0"], "0 is not positive"),
    (["run", "--checkpoint-every-s", "-5"], "-5 is not >= 0"),
    (["run", "--checkpoint-every-s", "nan"], "nan is not >= 0"),
    (["run", "--checkpoint-every-s", "often"], "'often' is not a number"),
    (
        ["run", "--address", "127.0.0.1:9", "--tracking-uri", "http://127.0.0.1:9/"],
        "no Ray cluster answers at 127.0.0.1:9",
    ),
    (["run", "--config", "/no/such/study.yaml"], "no such file"),
    (["resume", "never-ran"], "no study named 'never-ran'"),
    (["run", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    (["run", "--name", "../../escape"], "'../../escape' is not a valid study name"),
    (["run", "--name", ""], "'' is not a valid study name"),
    (["run", "--name", "a b"], "'a b' is not a valid study name"),
    (["resume", "../up"], "'../up' is not a valid study name"),
    (["run", "--max-failures", "-5"], "-5 is negative"),
    (
        ["run", "--preset", "loss-combos", "--seeds", "1", "--sampler", "grid", "--trials", "500"],
        "--trials 500: the grid sampler runs each cell once and the grid has 6 cells",
    ),
    (["run", "--preset", "smoke", "--sampler", "grid"], "--sampler grid needs a grid of cells"),
    (
        ["run", "--optuna-storage", "ftp://host/optuna"],
        "--optuna-storage ftp://host/optuna: unsupported scheme",
    ),
    (["run", "--format", "toml", "--dry-run"], "invalid choice: 'toml'"),
    (["run", "--seed", "-1", "--dry-run"], "--seed: -1 is out of range"),
    (["run", "--seed", "99999999999", "--dry-run"], "--seed: 99999999999 is out of range"),
    (["run", "--seed", "4294967296", "--dry-run"], "expected a seed 0 <= seed < 2**32"),
    (["run", "--cpus-per-trial", "inf", "--dry-run"], "--cpus-per-trial: inf is not positive"),
    (["run", "--cpus-per-trial", "nan", "--dry-run"], "--cpus-per-trial: nan is not positive"),
    (["run", "--gpus-per-trial", "inf", "--dry-run"], "--gpus-per-trial: inf is negative or not"),
]

# commands without --storage: (args, fragment); each runs from an empty directory
OTHER_FLAG_CASES = [
    (["trend", "--seed", "-1"], "--seed: -1 is out of range"),
    (["trend", "--bandwidth", "0"], "--bandwidth: 0 is not positive"),
    (["trend", "--bandwidth", "nan"], "--bandwidth: nan is not positive"),
    (["power", "--seed", "99999999999"], "--seed: 99999999999 is out of range"),
    (["power", "--a", "inf"], "--a: inf is not finite"),
    (["power", "--b", "nan"], "--b: nan is not finite"),
    (["power", "--screen-shift", "nan"], "--screen-shift: nan is not finite"),
    (["power", "--curvature", "inf"], "--curvature: inf: expected each value positive and finite"),
    (["power", "--smooth-width", "inf"], "--smooth-width: inf is not positive"),
    (["ui", "--port", "70000"], "--port: 70000 is not a port; expected 1..65535"),
    (["ui", "--port", "0"], "--port: 0 is not a port"),
    (["dashboard", "--port", "65536"], "--port: 65536 is not a port"),
    (["ui"], "--tracking-uri sqlite:///"),  # no mlflow.db here: ui does not create one
]

# (YAML text, fragment of the one-line error)
FILE_CASES = [
    ("name: x\ntrials: [1\n", "malformed YAML"),
    ("- just\n- a list\n", "expected a mapping"),
    (
        f"name: x\ntrials: 2\nbase: {GOOD_BASE}\nspaces: [lr]\ncolour: red\n",
        "unknown field 'colour'",
    ),
    (
        f"name: x\ntrials: three\nbase: {GOOD_BASE}\nspaces: [lr]\n",
        "field 'trials'='three' has the wrong type",
    ),
    (
        f"name: x\ntrials: 2\nbase: {GOOD_BASE}\nspaces: [lr]\ncheckpoint_every_s: -1\n",
        "checkpoint_every_s=-1",
    ),
    ("name: x\ntrials: 2\nspaces: [lr]\n", "missing field 'base'"),
    (
        f"name: x\ntrials: 2\nbase: {GOOD_BASE}\nspaces: [wiggle]\n",
        "search space 'wiggle' is unknown",
    ),
    (
        "name: x\ntrials: 2\nbase: {loss.output: sphereface}\nspaces: [lr]\n",
        "loss.output='sphereface' is unknown",
    ),
    (
        "name: x\ntrials: 2\nbase: {data.name: imagenet}\nspaces: [lr]\n",
        "data.name='imagenet' is unknown",
    ),
    ("name: x\ntrials: 2\nbase: {model.name: vit}\nspaces: [lr]\n", "model.name='vit' is unknown"),
    (
        "name: x\ntrials: 2\nbase: {train.epochz: 3}\nspaces: [lr]\n",
        "unknown config key 'train.epochz'",
    ),
    ("name: x\ntrials: 2\nbase: {train.epochs: 0}\nspaces: [lr]\n", "train.epochs=0 is invalid"),
    (
        "name: x\ntrials: 2\nbase: {train.epochs: many}\nspaces: [lr]\n",
        "train.epochs='many' is invalid",
    ),
    ("name: x\ntrials: 2\nbase: {scale.start: 0}\nspaces: [lr]\n", "scale.start=0.0 is invalid"),
    ("name: x\ntrials: 2\nbase: {scale.start: -3}\nspaces: [lr]\n", "scale.start=-3.0 is invalid"),
    (
        "name: x\ntrials: 2\nbase: {loss.output: cosface, loss.params.margin_cos: -0.2}\nspaces: [lr]\n",
        "margin must be >= 0",
    ),
    (
        "name: x\ntrials: 2\nbase: {loss.output: arcface, loss.params.margin_deg: 30}\nspaces: [lr]\n",
        "loss.params.margin_deg is unknown",
    ),
    (
        "name: x\ntrials: 2\nbase: {data.name: digits, data.num_classes: 50}\nspaces: [lr]\n",
        "data.num_classes=50",
    ),
    (
        "name: x\ntrials: 2\nbase: {data.name: digits, loss.terms.pc.weight: 0.1, loss.terms.pc.classes: head,"
        " data.head_threshold: 100000}\nspaces: [lr]\n",
        "loss.terms.pc.classes='head' is empty",
    ),
    (
        "name: x\ntrials: 2\nbase: {data.name: digits, loss.terms.pc.weight: 0.1, loss.terms.pc.classes: tail,"
        " data.head_threshold: 1}\nspaces: [lr]\n",
        "loss.terms.pc.classes='tail' is empty",
    ),
    (
        "name: x\ntrials: 2\nbase: {data.name: cifar10, data.root: /no/such/data}\nspaces: [lr]\n",
        "/no/such/data",
    ),
    (
        "name: x\ntrials: 2\nbase: {data.name: digits, optim.name: lbfgs}\nspaces: [lr]\n",
        "optim.name='lbfgs' is invalid",
    ),
    (
        "name: x\ntrials: 2\nbase: {data.name: digits}\nspaces: [lr]\nmode: upward\n",
        "mode='upward' is invalid",
    ),
    (
        "name: x\ntrials: 2\nbase: {data.name: digits}\nspaces: [lr]\nmetric: a,b\nmode: max,max\n",
        "need scheduler none",
    ),
    (f"name: ../x\ntrials: 2\nbase: {GOOD_BASE}\nspaces: [lr]\n", "study name '../x' is invalid"),
    (f"name: x\ntrials: 2\nbase: {GOOD_BASE}\nspaces: [lr]\nmax_failures: -1\n", "max_failures=-1"),
    (
        f"name: x\ntrials: 2\nbase: {GOOD_BASE}\nspaces: [lr]\nsystem_metrics: maybe\n",
        "field 'system_metrics'='maybe'",
    ),
    (
        f"name: x\ntrials: 9\nbase: {GOOD_BASE}\nspaces: [lr]\nsampler: grid\ngrid: {{optim.lr: [0.1, 0.01]}}\n",
        "--trials 9: the grid sampler runs each cell once and the grid has 2 cells",
    ),
    (f"name: x\ntrials: 2\nbase: {GOOD_BASE}\nspaces: [lr]\nseed: -1\n", "seed=-1 is invalid"),
    (
        f"name: x\ntrials: 2\nbase: {GOOD_BASE}\nspaces: [lr]\nseed: 99999999999\n",
        "seed=99999999999 is invalid; expected a whole number 0 <= seed < 2**32",
    ),
    (
        f"name: x\ntrials: 2\nbase: {GOOD_BASE}\nspaces: [lr]\ncpus_per_trial: .nan\n",
        "cpus_per_trial=nan is invalid",
    ),
    (
        f"name: x\ntrials: 2\nbase: {GOOD_BASE}\nspaces: [lr]\ncpus_per_trial: 0\n",
        "cpus_per_trial=0.0 is invalid; expected a finite number of CPUs > 0",
    ),
    (
        f"name: x\ntrials: 2\nbase: {GOOD_BASE}\nspaces: [lr]\ngpus_per_trial: .inf\n",
        "gpus_per_trial=inf is invalid",
    ),
    (
        f"name: x\ntrials: 2\nbase: {GOOD_BASE}\nspaces: [lr]\nmax_concurrent: -3\n",
        "max_concurrent=-3 is invalid",
    ),
    (
        f"name: x\ntrials: 2\nbase: {GOOD_BASE}\nspaces: [lr]\nsize: huge\n",
        "size='huge' is invalid",
    ),
    (
        "name: x\ntrials: 2\nbase: {data.name: digits, scale.start: .inf}\nspaces: [lr]\n",
        "scale.start=inf is invalid: expected a finite number",
    ),
    (
        "name: x\ntrials: 2\nbase: {data.name: digits, loss.output: cosface, loss.params.margin_cos: .nan}\n"
        "spaces: [lr]\n",
        "loss.params.margin_cos=nan is invalid: expected a finite number",
    ),
    ("name: x\ntrials: 2\nbase: {1: 2}\nspaces: [lr]\n", "config key 1 is not a dotted name"),
    (
        f"name: x\ntrials: 2\nbase: {GOOD_BASE}\nspaces: [lr]\nspace_options: {{lr: 5}}\n",
        "search space lr fails with its options {'lr': 5}",
    ),
    (
        "name: x\ntrials: 2\nbase: {data.name: digits, loss.terms: {pc: 1}}\nspaces: [lr]\n",
        "loss.terms={'pc': 1}: set it as flat keys, one per value: loss.terms.NAME.weight",
    ),
    (
        "name: x\ntrials: 2\nbase: {data.name: digits, loss.output: arcface, loss.params: {margin_rad: -5}}\n"
        "spaces: [lr]\n",
        "loss.params={'margin_rad': -5}: set it as flat keys, one per value: loss.params.NAME",
    ),
]


def _assert_rejected(done, fragment: str, workdir: Path) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in done.stdout + done.stderr
    assert sorted(p.name for p in workdir.iterdir()) == [], "something was written"


@pytest.mark.parametrize("args, fragment", FLAG_CASES)
def test_bad_flags(cli, tmp_path, args, fragment):
    done = cli(*args, "--storage", str(tmp_path / "results"))
    _assert_rejected(done, fragment, tmp_path)


@pytest.mark.parametrize("args, fragment", OTHER_FLAG_CASES)
def test_bad_flags_of_other_commands(cli, tmp_path, args, fragment):
    _assert_rejected(cli(*args), fragment, tmp_path)


@pytest.mark.parametrize("text, fragment", FILE_CASES)
def test_bad_study_files(cli, tmp_path, tmp_path_factory, text, fragment):
    config = tmp_path_factory.mktemp("config") / "study.yaml"
    config.write_text(text)
    done = cli("run", "--config", str(config), "--storage", str(tmp_path / "results"))
    _assert_rejected(done, fragment, tmp_path)


@pytest.mark.parametrize(
    "flags, fragment",
    [
        (["--preset", "smoke"], "--preset smoke: --config "),
        (["--size", "cpu"], "--size cpu: --config "),
    ],
)
def test_config_refuses_preset_and_size(cli, tmp_path, tmp_path_factory, flags, fragment):
    config = tmp_path_factory.mktemp("config") / "study.yaml"
    config.write_text(f"name: x\ntrials: 2\nbase: {GOOD_BASE}\nspaces: [lr]\n")
    done = cli("run", "--config", str(config), *flags, "--dry-run")
    _assert_rejected(done, fragment + str(config), tmp_path)


def test_config_takes_data_root_from_the_command_line(cli, tmp_path, tmp_path_factory):
    """docs/configuration.md: data.root from --data-root wins over the study file's."""
    import json

    config = tmp_path_factory.mktemp("config") / "study.yaml"
    config.write_text(
        "name: x\ntrials: 2\nbase: {data.name: digits, data.root: /from/file}\nspaces: [lr]\n"
    )
    data = tmp_path_factory.mktemp("data")
    done = cli("run", "--config", str(config), "--data-root", str(data), "--dry-run")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["fixed_config"]["data.root"] == str(data)


def test_a_study_file_that_is_not_utf8(cli, tmp_path, tmp_path_factory):
    config = tmp_path_factory.mktemp("config") / "study.yaml"
    config.write_bytes(b"name: \xff\xfe\ntrials: 2\n")
    done = cli("run", "--config", str(config), "--storage", str(tmp_path / "results"))
    _assert_rejected(done, f"--config {config}: not UTF-8 text (byte 6", tmp_path)


@pytest.mark.parametrize(
    "args, base, fragment",
    [
        (
            ["--preset", "basics", "--size", "full", "--data-root", "/no/such/data-root"],
            "",
            "/no/such/data-root",
        ),
        ([], "{data.name: digits, data.num_classes: 100000}", "data.num_classes=100000"),
        (
            [],
            "{data.name: digits, loss.terms.pc.weight: 0.1, loss.terms.pc.classes: head, "
            "data.head_threshold: 100000}",
            "loss.terms.pc.classes='head' is empty",
        ),
    ],
)
def test_dry_run_checks_the_data(cli, tmp_path, tmp_path_factory, args, base, fragment):
    """A dry run loads each group's dataset as a real run does: data that is missing, or has too
    few classes or an empty head set, fails the dry run too."""
    if base:
        config = tmp_path_factory.mktemp("config") / "study.yaml"
        config.write_text(f"name: x\ntrials: 2\nbase: {base}\nspaces: [lr]\n")
        args = ["--config", str(config)]
    done = cli("run", *args, "--dry-run", "--storage", str(tmp_path / "results"))
    _assert_rejected(done, fragment, tmp_path)


def test_dry_run_prints_the_plan_and_writes_nothing(cli, tmp_path):
    done = cli("run", "--preset", "smoke", "--dry-run", "--trials", "5")
    assert done.returncode == 0, done.stderr
    assert '"trials_per_group": 5' in done.stdout
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "preset, seeds, fragment",
    [
        ("loss-combos", "4", "--seeds 4: study 'loss-combos-smoke' has no staged design"),
        (
            "scale-vs-classes",
            "1",
            "already runs seeds 0..1; --seeds only adds seeds: give 2 or more",
        ),
    ],
)
def test_resume_with_seeds_it_cannot_add(cli, tmp_path_factory, preset, seeds, fragment):
    """`study resume NAME --seeds N` adds estimate-stage seeds to a staged design; anything else is
    one line, exit 2, and the study's files stay as they were."""
    from study.presets import PRESETS
    from study.spec import StudySpec, save_spec

    results = tmp_path_factory.mktemp("results")
    fields = PRESETS.get(preset).build("smoke", "")
    spec = StudySpec(
        name=f"{preset}-smoke", preset=preset, size="smoke", storage=str(results), **fields
    )
    save_spec(spec)
    before = {p: p.read_bytes() for p in results.rglob("*") if p.is_file()}
    done = cli("resume", spec.name, "--storage", str(results), "--seeds", seeds)
    assert done.returncode == 2 and fragment in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert {p: p.read_bytes() for p in results.rglob("*") if p.is_file()} == before


def test_bad_space_options_fail_before_ray(cli, tmp_path, tmp_path_factory):
    config = tmp_path_factory.mktemp("config") / "study.yaml"
    config.write_text(
        "name: x\ntrials: 2\nbase: {data.name: digits}\nspaces: [lr]\nspace_options: {lr: {low: 0.01, high: 1.0e30}}\n"
    )
    done = cli("run", "--config", str(config), "--storage", str(tmp_path / "results"))
    _assert_rejected(done, "search space lr fails with its options", tmp_path)


# The same contract as a user meets it, from a new process: argparse's refusal, a malformed study file
# and a store that cannot be created each end with one line on stderr, exit code 2 and nothing written.
PROCESS_CASES = [
    (["run", "--trials", "zero"], "'zero' is not a whole number"),
    (["run", "--tracking-uri", "sqlite:////no/such/dir/mlflow.db"], "/no/such/dir does not exist"),
    (["run", "--config", "MALFORMED"], "malformed YAML"),
]


@pytest.mark.parametrize("args, fragment", PROCESS_CASES)
def test_a_real_process_exits_2_with_one_line_and_writes_nothing(
    study_cli, tmp_path, tmp_path_factory, args, fragment
):
    config = tmp_path_factory.mktemp("config") / "study.yaml"
    config.write_text("name: x\ntrials: [1\n")
    args = [str(config) if a == "MALFORMED" else a for a in args]
    done = study_cli(*args, "--storage", str(tmp_path / "results"), timeout=180)
    _assert_rejected(done, fragment, tmp_path)


@pytest.mark.parametrize(
    "storage, fragment",
    [
        ("bogus://x", "--storage bogus://x: not a usable path or storage URI"),
        ("AFILE", "is a file; expected a directory"),
        ("AFILE/below", "is a file; expected a directory"),
        ("/proc/x", "--storage /proc/x: cannot write in /proc"),
    ],
)
def test_bad_storage(cli, tmp_path, tmp_path_factory, storage, fragment):
    """--storage is checked before Ray starts: an unknown URI scheme, a regular file, or a place
    that cannot be written is one line and exit 2."""
    afile = tmp_path_factory.mktemp("elsewhere") / "afile"
    afile.write_text("not a directory\n")
    storage = storage.replace("AFILE", str(afile))
    done = cli("run", "--preset", "smoke", "--dry-run", "--storage", storage)
    _assert_rejected(done, fragment, tmp_path)


def test_resume_from_a_storage_uri_pyarrow_cannot_open(cli, tmp_path):
    done = cli("resume", "x", "--storage", "bogus://x")
    _assert_rejected(done, "--storage bogus://x: not a usable path or storage URI", tmp_path)


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"garbage", "is not a saved study spec (JSONDecodeError"),
        (b"{}", "is not a saved study spec (KeyError: 'spaces')"),
        (b"[]", "is not a saved study spec (TypeError"),
        (b"\xff\xfe\x00", "is not a saved study spec (UnicodeDecodeError"),
        (b'{"name": "x"}', "is not a saved study spec"),
    ],
)
def test_resume_a_corrupt_study_json(cli, tmp_path, tmp_path_factory, content, fragment):
    results = tmp_path_factory.mktemp("results")
    (results / "broken").mkdir()
    (results / "broken" / "study.json").write_bytes(content)
    done = cli("resume", "broken", "--storage", str(results))
    _assert_rejected(done, fragment, tmp_path)
    assert str(results / "broken" / "study.json") in done.stderr
    assert (results / "broken" / "study.json").read_bytes() == content


def test_save_spec_replaces_study_json_whole(tmp_path, monkeypatch):
    """save_spec writes a temporary file and renames it: a write that fails half way leaves the
    previous study.json as it was, and a good one leaves no temporary file behind."""
    import json

    from study import spec as spec_module
    from study.presets import PRESETS

    fields = PRESETS.get("smoke").build("smoke", "")
    spec = spec_module.StudySpec(
        name="s", preset="smoke", size="smoke", storage=str(tmp_path), **fields
    )
    spec_module.save_spec(spec)
    saved = (tmp_path / "s" / "study.json").read_bytes()
    assert spec_module.load_spec(str(tmp_path), "s") == spec

    def half_written(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(json, "dumps", half_written)
    with pytest.raises(OSError, match="disk full"):
        spec_module.save_spec(spec_module.StudySpec(**{**spec.__dict__, "trials": 9}))
    assert (tmp_path / "s" / "study.json").read_bytes() == saved
    assert sorted(p.name for p in (tmp_path / "s").iterdir() if p.suffix != ".partial") == [
        "study.json"
    ]


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["report", "--out", "AFILE"], "--out AFILE: AFILE is a file; expected a directory"),
        (["report", "--out", "/proc/x"], "--out /proc/x: cannot write in /proc"),
        (["trend", "--out", "/proc/x"], "--out /proc/x: cannot write in /proc"),
        (["trend", "--out", "AFILE/below"], "AFILE is a file; expected a directory"),
        (["power", "--json", "MISSING/dir/x.json"], "directory MISSING/dir does not exist"),
        (["power", "--json", "/proc/x.json"], "--json /proc/x.json: cannot write in /proc"),
        (["power", "--plan", "4", "--figure", "MISSING/f"], "--figure MISSING/f: directory"),
        (["bench", "--json", "MISSING/dir/b.json"], "directory MISSING/dir does not exist"),
    ],
)
def test_an_output_that_cannot_be_written_fails_first(
    cli, tmp_path, tmp_path_factory, args, fragment
):
    """Where a command writes is checked before it reads the store (here one that is not there)
    or simulates anything."""
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    afile = elsewhere / "afile"
    afile.write_text("a file\n")
    missing = elsewhere / "missing"  # never created: a plot that made it would fail the test
    places = {"AFILE": str(afile), "MISSING": str(missing)}
    args = [_placed(a, places) for a in args]
    store = f"sqlite:///{elsewhere / 'mlflow.db'}"
    tracking = ["--tracking-uri", store] if args[0] in ("report", "trend") else []
    done = cli(*args, *tracking)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert _placed(fragment, places) in lines[0]
    assert not missing.exists()
    assert list(tmp_path.iterdir()) == []
    assert afile.read_text() == "a file\n"


def _placed(text: str, places: dict[str, str]) -> str:
    for placeholder, path in places.items():
        text = text.replace(placeholder, path)
    return text
