"""The team MLflow's parts, started for real on 127.0.0.1 (docs/team_mlflow.md): PostgreSQL
(the `pgserver` wheel), an S3 endpoint (moto's server), `mlflow server` on both, and
`mlflow models serve` of a model registered there. Each is a context manager that stops
what it started, even when the test fails."""

from __future__ import annotations

import os
import signal
import subprocess
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from support.project import BIN, TRACKING_SERVER_ENVIRONMENT, free_port, wait_until_up

# moto accepts any key; the S3 endpoint and these reach only the mlflow server's process.
S3_KEYS = {
    "AWS_ACCESS_KEY_ID": "team-test-key",
    "AWS_SECRET_ACCESS_KEY": "team-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}
# What a team member's client must NOT need (artifacts go through the tracking server).
CLIENT_FREE_VARIABLES = (*S3_KEYS, "MLFLOW_S3_ENDPOINT_URL", "MLFLOW_TRACKING_URI")


class Process(AbstractContextManager):
    """A subprocess in its own process group (servers fork workers), its output in
    ``log``; stopped with SIGTERM to the group, then SIGKILL."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str], cwd: Path) -> None:
        self.args, self.log_path, self.env, self.cwd = args, log, env, cwd

    def __enter__(self) -> Process:
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            self.args,
            env=self.env,
            cwd=self.cwd,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def wait_until_up(self, url: str, timeout_seconds: float) -> None:
        try:
            wait_until_up(url, self.process, timeout_seconds)
        except (RuntimeError, TimeoutError) as error:
            self.__exit__()
            raise RuntimeError(
                f"{Path(self.args[0]).name} {self.args[1]} did not start ({error}):\n"
                f"{self.log_path.read_text()[-3000:]}"
            ) from error

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            except ProcessLookupError:
                pass
        self.log.close()


def client_environment(**extra: str) -> dict[str, str]:
    """This process's environment without the S3 and tracking variables, the venv's bin
    first on PATH (MLflow execs uvicorn), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in CLIENT_FREE_VARIABLES}
    env["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**env, **extra}


class Postgres(AbstractContextManager):
    """A PostgreSQL server from the pgserver wheel in ``folder`` with a database ``name``.

    ``uri`` is for SQLAlchemy (MLflow): pgserver gives `postgresql://postgres:@/<db>?host=
    <socket dir>` (a unix socket, no TCP port), and SQLAlchemy 2.1 reads a bare
    `postgresql://` as the psycopg 3 driver, which is not installed: the driver is named.
    ``libpq_uri`` is the same for psycopg2.connect.
    """

    def __init__(self, folder: Path, name: str = "mlflow") -> None:
        self.folder, self.name = folder, name

    def __enter__(self) -> Postgres:
        import pgserver

        self.folder.mkdir(parents=True, exist_ok=True)
        self.server = pgserver.get_server(self.folder, cleanup_mode="stop")
        try:
            self.server.psql(f"CREATE DATABASE {self.name};")
        except BaseException:
            self.server.cleanup()
            raise
        self.libpq_uri = self.server.get_uri(self.name)
        self.uri = self.libpq_uri.replace("postgresql://", "postgresql+psycopg2://", 1)
        return self

    def query(self, sql: str, *args: Any) -> list[tuple]:
        import psycopg2

        connection = psycopg2.connect(self.libpq_uri)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, args)
                return cursor.fetchall()
        finally:
            connection.close()

    def __exit__(self, *exc: object) -> None:
        self.server.cleanup()


class MotoS3(AbstractContextManager):
    """moto's S3 server (`moto_server -H 127.0.0.1 -p <port>`) with one bucket."""

    def __init__(self, folder: Path, bucket: str) -> None:
        self.folder, self.bucket = folder, bucket
        self.endpoint = f"http://127.0.0.1:{free_port()}"

    def __enter__(self) -> MotoS3:
        port = self.endpoint.rsplit(":", 1)[1]
        self.process = Process(
            [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", port],
            self.folder / "moto.log",
            client_environment(),
            self.folder,
        ).__enter__()
        self.process.wait_until_up(f"{self.endpoint}/moto-api/", 60)
        try:
            self.client().create_bucket(Bucket=self.bucket)
        except BaseException:
            self.process.__exit__()
            raise
        return self

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=S3_KEYS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=S3_KEYS["AWS_SECRET_ACCESS_KEY"],
            region_name=S3_KEYS["AWS_DEFAULT_REGION"],
        )

    def keys(self, prefix: str = "") -> list[str]:
        pages = (
            self.client()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.bucket, Prefix=prefix)
        )
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def __exit__(self, *exc: object) -> None:
        self.process.__exit__()


class TeamMlflowServer(AbstractContextManager):
    """docs/team_mlflow.md's command: `mlflow server --backend-store-uri <postgres>
    --artifacts-destination s3://<bucket>/mlartifacts --serve-artifacts`, one worker; only
    this process gets the S3 endpoint and keys. ``url`` is its address."""

    def __init__(self, folder: Path, postgres: Postgres, s3: MotoS3) -> None:
        self.folder, self.postgres, self.s3 = folder, postgres, s3
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.artifacts = f"s3://{s3.bucket}/mlartifacts"

    def __enter__(self) -> TeamMlflowServer:
        self.process = Process(
            [
                str(BIN / "mlflow"),
                "server",
                "--backend-store-uri",
                self.postgres.uri,
                "--artifacts-destination",
                self.artifacts,
                "--serve-artifacts",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
            ],
            self.folder / "mlflow-server.log",
            client_environment(
                MLFLOW_S3_ENDPOINT_URL=self.s3.endpoint, **S3_KEYS, **TRACKING_SERVER_ENVIRONMENT
            ),
            self.folder,
        ).__enter__()
        self.process.wait_until_up(f"{self.url}/health", 300)  # migrations first, under load
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.__exit__()
