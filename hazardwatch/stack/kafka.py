"""Apache Kafka 3.9 or 4.x in KRaft mode, single node, jars resolved from Maven Central.

`HW_KAFKA_VERSION` chooses the release (default 3.9.1; tested: 3.9.1 and 4.1.2). The two lines
differ in their logging backend (3.x: slf4j-reload4j with log4j.properties; 4.x: log4j2 with
log4j2.yaml) and in how the single-node quorum is formatted (3.x: a static
`controller.quorum.voters`; 4.x: `controller.quorum.bootstrap.servers` and `format
--standalone`, a dynamic quorum, as Kafka 4's own quick start does). The main class
`kafka.Kafka` and `kafka.tools.StorageTool` are the same in both.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

from hazardwatch.resources import packaged
from hazardwatch.stack.errors import StackError
from hazardwatch.stack.service import Say, Service
from hazardwatch.stack.settings import HOST

DEPLOY_DIR = packaged("kafka")
MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"
TESTED_VERSIONS = ("3.9.1", "4.1.2")
_VERSION = re.compile(r"(3\.9|4\.\d{1,2})\.\d{1,2}")


def major(version: str) -> int:
    """3 or 4 for a supported release (3.9.x or 4.x.y); anything else is refused."""
    if not _VERSION.fullmatch(version):
        raise StackError(f"kafka: HW_KAFKA_VERSION={version!r} is not supported; use a 3.9.x "
                         f"or 4.x release (tested: {', '.join(TESTED_VERSIONS)})")
    return int(version.split(".", 1)[0])

_quiet = logging.getLogger("hazardwatch.stack.kafka.health")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False


def random_cluster_id() -> str:
    """A cluster id in Kafka's Uuid format (URL-safe base64 of 16 random bytes, no padding).

    Like Kafka's own ``Uuid.randomUuid`` it never starts with ``-``, which the storage tool's
    argument parser would read as an option (1 in 64 ids did, and ``stack up`` failed).
    """
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


class KafkaService(Service):
    """The Kafka broker and controller of the local stack."""

    name = "kafka"
    start_timeout_s = 120.0
    stop_timeout_s = 30.0
    binaries = (("java", "openjdk-17-jre-headless"), ("mvn", "maven"))

    @property
    def ports(self) -> tuple[int, ...]:
        """Broker and controller listeners."""
        return (self.settings.kafka_port, self.settings.kafka_controller_port)

    @property
    def config_file(self) -> Path:
        """The generated server.properties."""
        return self.dir / "server.properties"

    @property
    def marker(self) -> str:
        """The config path, unique to this run directory."""
        return str(self.config_file)

    @property
    def lib_dir(self) -> Path:
        """Runtime classpath copied from the local Maven repository."""
        return self.dir / "libs"

    @property
    def version(self) -> str:
        """The Kafka release this stack runs."""
        return self.settings.kafka_version

    @property
    def major(self) -> int:
        """3 or 4."""
        return major(self.version)

    @property
    def version_file(self) -> Path:
        """Which release formatted the storage (a 4.x quorum cannot go back to 3.x)."""
        return self.dir / "formatted-by"

    def check_binaries(self) -> None:
        """Java and Maven, a supported version, and storage formatted by the same line."""
        super().check_binaries()
        self.major  # noqa: B018 - raises on an unsupported version
        if (self.data_dir / "meta.properties").exists():
            formatted = (self.version_file.read_text().strip() if self.version_file.exists()
                         else "3.9.1")  # run dirs from before HW_KAFKA_VERSION
            if major(formatted) != self.major:
                raise StackError(
                    f"kafka: {self.data_dir} was formatted by Kafka {formatted}; Kafka "
                    f"{self.version} cannot use it. Give this version its own run directory "
                    f"(HW_RUN_DIR) or remove {self.dir} to start with empty topics")

    def install(self, say: Say) -> None:
        """Resolve the broker's jars (cached in ~/.m2, copied into the run directory)."""
        self.resolve_jars()

    def resolve_jars(self) -> None:
        """Copy the broker's runtime jars with Maven unless pom and version are unchanged."""
        pom = DEPLOY_DIR / ("pom.xml" if self.major == 3 else "pom-4.xml")
        digest = hashlib.sha256(pom.read_bytes() + self.version.encode()).hexdigest()
        stamp = self.lib_dir / ".pom.sha256"
        if stamp.exists() and stamp.read_text().strip() == digest:
            return
        if self.lib_dir.exists():
            shutil.rmtree(self.lib_dir)
        self.lib_dir.mkdir(parents=True)
        argv = ["mvn", "-q", "-B", "-f", str(pom), "dependency:copy-dependencies",
                f"-Dkafka.version={self.version}", f"-DoutputDirectory={self.lib_dir}",
                "-DincludeScope=runtime"]
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise StackError(
                f"kafka: resolving jars from Maven Central failed ({' '.join(argv)}):\n"
                f"{(proc.stdout + proc.stderr)[-2000:]}"
            )
        stamp.write_text(digest + "\n")

    def _java(self, main: str, *args: str, heap: str = "-Xmx1g") -> list[str]:
        logging_conf = (f"-Dlog4j.configuration=file:{DEPLOY_DIR / 'log4j.properties'}"
                        if self.major == 3 else
                        f"-Dlog4j2.configurationFile={DEPLOY_DIR / 'log4j2.yaml'}")
        return [
            "java", "-Xms256m", heap, "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true", logging_conf,
            f"-Dkafka.logs.dir={self.dir / 'logs'}",
            "-cp", f"{self.lib_dir}/*", main, *args,
        ]

    def prepare(self) -> None:
        """Write server.properties and format the storage on first start (jars: `install`)."""
        (self.dir / "logs").mkdir(parents=True, exist_ok=True)
        s = self.settings
        quorum = ({"controller.quorum.voters": f"1@{HOST}:{s.kafka_controller_port}"}
                  if self.major == 3 else
                  {"controller.quorum.bootstrap.servers": f"{HOST}:{s.kafka_controller_port}"})
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            **quorum,
            "listeners": f"PLAINTEXT://{HOST}:{s.kafka_port},CONTROLLER://{HOST}:{s.kafka_controller_port}",
            "advertised.listeners": f"PLAINTEXT://{HOST}:{s.kafka_port}",
            "inter.broker.listener.name": "PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": "4",
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "8",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "true",
            "log.retention.hours": "168",
            "log.segment.bytes": "104857600",
            "num.network.threads": "2",
            "num.io.threads": "4",
        }
        self.config_file.write_text(
            "# generated by hazardwatch stack — single-node KRaft, loopback only\n"
            + "".join(f"{k}={v}\n" for k, v in props.items())
        )
        if not (self.data_dir / "meta.properties").exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            argv = self._java(STORAGE_TOOL, "format", "-t", random_cluster_id(),
                              "-c", str(self.config_file),
                              *(("--standalone",) if self.major == 4 else ()), heap="-Xmx256m")
            proc = subprocess.run(argv, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise StackError(f"kafka: formatting storage failed:\n{proc.stdout}{proc.stderr}")
            self.version_file.write_text(self.version + "\n")

    def command(self) -> list[str]:
        """java … kafka.Kafka server.properties."""
        return self._java(MAIN_CLASS, str(self.config_file))

    def healthy(self) -> bool:
        """A metadata request lists the broker."""
        from confluent_kafka.admin import AdminClient

        conf: dict[str, Any] = {"bootstrap.servers": self.settings.kafka_bootstrap,
                                "socket.timeout.ms": 2000, "logger": _quiet}
        admin = AdminClient(conf)
        try:
            md = admin.list_topics(timeout=3)
        except Exception:
            return False
        return bool(md.brokers)
