"""The shipped cluster configs (study/clusters/*.yaml) under Ray's own config checks, what they
promise (a head without trials, token auth, a pinned Python 3.11 image, .gitignore'd files left
behind, the MLflow server on the head's private address), and the `ray submit` entry script."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path

import pytest
import ray
import yaml

from study.clusters.submit_study import command_line, head_tracking_uri

CLUSTERS = Path(__file__).resolve().parents[2] / "study" / "clusters"
CONFIGS = ["aws.yaml", "onprem.yaml"]


def load(name: str) -> dict:
    return yaml.safe_load((CLUSTERS / name).read_text())


def start_commands(config: dict) -> list[str]:
    return [
        c
        for c in config["head_start_ray_commands"] + config["worker_start_ray_commands"]
        if " start " in f" {c} "
    ]


@pytest.mark.parametrize("name", CONFIGS)
def test_configs_pass_rays_own_checks(name):
    from ray.autoscaler._private.util import prepare_config, validate_config

    config = load(name)
    validate_config(prepare_config(copy.deepcopy(config)))
    broken = copy.deepcopy(config)
    broken["max_workers"] = "many"
    from jsonschema.exceptions import ValidationError

    # Ray's schema rejects it (aws); the local provider trips over it first (onprem)
    with pytest.raises((ValidationError, TypeError)):
        validate_config(prepare_config(broken))


@pytest.mark.parametrize("name", CONFIGS)
def test_the_head_runs_no_trials_and_every_node_presents_the_token(name):
    config = load(name)
    head = " ".join(config["head_start_ray_commands"])
    assert "--head" in head and "--num-cpus=0" in head and "--num-gpus=0" in head
    assert all("RAY_AUTH_MODE=token" in c for c in start_commands(config)), start_commands(config)
    assert config["file_mounts"]["~/.ray/auth_token"] == "~/.ray/auth_token"


@pytest.mark.parametrize("name", CONFIGS)
def test_ray_up_leaves_gitignored_files_behind(name):
    config = load(name)
    assert (
        config["rsync_filter"] == [".gitignore"]
        and config["file_mounts"]["~/loss-scale-study"] == "."
    )
    ignored = (CLUSTERS.parents[1] / ".gitignore").read_text().split()
    assert {".venv/", "mlflow.db", "study_results/", "study/clusters/tracking.env"} <= set(ignored)


@pytest.mark.parametrize("name", CONFIGS)
def test_the_tracking_server_starts_once_on_the_heads_private_address(name):
    config = load(name)
    text = yaml.safe_dump(config)
    assert "pgrep" not in text  # it matched its own shell: the server never started
    assert any("start_tracking.sh" in c for c in config["head_start_ray_commands"])
    script = (CLUSTERS / "start_tracking.sh").read_text()
    assert "ray.util.get_node_ip_address()" in script and '--host "$HOST"' in script
    assert "127.0.0.1 --port" not in script and "0.0.0.0" not in script
    assert config["file_mounts"]["~/study-tracking.env"] == "study/clusters/tracking.env"


def test_aws_pins_rays_python_311_image_and_gives_workers_a_profile():
    config = load("aws.yaml")
    images = [config["docker"]["head_image"], config["docker"]["worker_image"]]
    assert all(i.startswith(f"rayproject/ray:{ray.__version__}-py311-") for i in images), images
    nodes = config["available_node_types"]
    assert nodes["head"]["resources"] == {"CPU": 0, "GPU": 0}
    for node in nodes.values():
        assert (
            "ubuntu-22.04" in node["node_config"]["ImageId"]
            and "latest_dlami" not in node["node_config"]["ImageId"]
        )
    workers = [n for k, n in nodes.items() if k != config["head_node_type"]]
    assert workers and all("IamInstanceProfile" in n["node_config"] for n in workers)


def test_onprem_runs_rays_commands_from_the_venv_it_puts_on_path():
    config = load("onprem.yaml")
    assert config["setup_commands"] == ["bash ~/loss-scale-study/study/clusters/setup_node.sh"]
    assert all(
        "~/study-venv/bin/ray" in c
        for c in config["head_start_ray_commands"][:2] + config["worker_start_ray_commands"]
    )
    setup = (CLUSTERS / "setup_node.sh").read_text()
    assert 'export PATH=\\"$VENV/bin:\\$PATH\\" RAY_AUTH_MODE=token' in setup


@pytest.mark.parametrize("script", ["setup_node.sh", "start_tracking.sh"])
def test_node_scripts_parse(script):
    done = subprocess.run(["bash", "-n", str(CLUSTERS / script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


SERVER = "http://10.0.0.5:5000"


@pytest.mark.parametrize(
    "argv, expected",
    [
        (
            ["--preset", "smoke"],
            ["run", "--preset", "smoke", "--address", "auto", "--tracking-uri", SERVER],
        ),
        (
            ["--", "--preset", "smoke"],
            ["run", "--preset", "smoke", "--address", "auto", "--tracking-uri", SERVER],
        ),
        (["resume", "s1"], ["resume", "s1", "--address", "auto"]),  # the study's own store
        (
            ["run", "--address", "10.0.0.1:6379"],
            ["run", "--address", "10.0.0.1:6379", "--tracking-uri", SERVER],
        ),
        (["report", "--out", "r"], ["report", "--out", "r", "--tracking-uri", SERVER]),
        (
            ["--tracking-uri", "http://localhost:5000"],
            ["run", "--tracking-uri", SERVER, "--address", "auto"],
        ),
        (
            ["--tracking-uri=http://127.0.0.1:5000"],
            ["run", f"--tracking-uri={SERVER}", "--address", "auto"],
        ),
        (
            ["--tracking-uri", "postgresql://u@db:5432/m"],
            ["run", "--tracking-uri", "postgresql://u@db:5432/m", "--address", "auto"],
        ),
    ],
)
def test_the_entry_script_joins_the_cluster_and_records_on_the_heads_server(argv, expected):
    assert command_line(argv, SERVER, env={}) == expected


def test_the_entry_script_leaves_the_store_alone_without_a_server_or_with_mlflow_tracking_uri():
    assert command_line(["--preset", "smoke"], None, env={}) == [
        "run",
        "--preset",
        "smoke",
        "--address",
        "auto",
    ]
    env = {"MLFLOW_TRACKING_URI": "http://10.0.0.9:5000"}
    assert command_line(["--preset", "smoke"], SERVER, env=env) == [
        "run",
        "--preset",
        "smoke",
        "--address",
        "auto",
    ]


def test_the_entry_script_reads_the_url_start_tracking_wrote(tmp_path):
    assert head_tracking_uri(tmp_path / "missing") is None
    (tmp_path / "url").write_text(SERVER + "\n")
    assert head_tracking_uri(tmp_path / "url") == SERVER
