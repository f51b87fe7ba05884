"""podman inspect parser: container state, health probes, redaction, malformed documents."""

# ruff: noqa: E501  (the inspect documents are verbatim podman output with long lines)

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.bundle.lines import split_lines
from triage.bundle.sources import Source
from triage.parsers import ParseResult
from triage.parsers.podman_inspect import parse, redact_env
from triage.table.schema import validate_events


def _source(container: str) -> Source:
    name = f"signalprocessing_signalprocessing_{container}_test_inspect.json"
    return Source(Path("must-gather") / name, name, "podman_inspect", container, "JSON array")


DS_SOURCE = _source("datastorage")
PG_SOURCE = _source("postgres")
RD_SOURCE = _source("redis")

# `podman inspect signalprocessing_datastorage_test` (podman 5, 5-space indent, local times): the
# image's HEALTHCHECK is shell form by accident, so every probe fails the same way.
DATASTORAGE_INSPECT = r"""[
     {
          "Id": "7c3f9a2e51d84b06a9e1f3c5d7b2e4a6f8c0d1e3b5a7c9e2f4d6b8a0c1e3f5a7",
          "Created": "2026-01-14T10:24:12.61529467-05:00",
          "Path": "/usr/local/bin/data-storage",
          "Args": [],
          "State": {
               "OciVersion": "1.2.0",
               "Status": "running",
               "Running": true,
               "Paused": false,
               "Restarting": false,
               "OOMKilled": false,
               "Dead": false,
               "Pid": 412733,
               "ConmonPid": 412731,
               "ExitCode": 0,
               "Error": "",
               "StartedAt": "2026-01-14T10:24:12.873109226-05:00",
               "FinishedAt": "0001-01-01T00:00:00Z",
               "Health": {
                    "Status": "unhealthy",
                    "FailingStreak": 3,
                    "Log": [
                         {
                              "Start": "2026-01-14T10:24:43.118270912-05:00",
                              "End": "2026-01-14T10:24:43.204515003-05:00",
                              "ExitCode": 1,
                              "Output": "/bin/sh: line 1: [/usr/bin/curl,: No such file or directory"
                         },
                         {
                              "Start": "2026-01-14T10:25:13.120994127-05:00",
                              "End": "2026-01-14T10:25:13.19800412-05:00",
                              "ExitCode": 1,
                              "Output": "/bin/sh: line 1: [/usr/bin/curl,: No such file or directory"
                         },
                         {
                              "Start": "2026-01-14T10:25:43.119403387-05:00",
                              "End": "2026-01-14T10:25:43.192377524-05:00",
                              "ExitCode": 1,
                              "Output": "/bin/sh: line 1: [/usr/bin/curl,: No such file or directory"
                         },
                         {
                              "Start": "2026-01-14T10:26:13.121870533-05:00",
                              "End": "2026-01-14T10:26:13.20331198-05:00",
                              "ExitCode": 1,
                              "Output": "/bin/sh: line 1: [/usr/bin/curl,: No such file or directory"
                         }
                    ]
               },
               "CgroupPath": "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-412733.scope",
               "CheckpointedAt": "0001-01-01T00:00:00Z",
               "RestoredAt": "0001-01-01T00:00:00Z"
          },
          "Image": "9b1d7e5c3a2f4e6d8c0b1a3f5e7d9c2b4a6f8e0d1c3b5a7f9e2d4c6b8a0f1e3d",
          "ImageDigest": "sha256:d3e1f0a8b6c4d2e9f7a5b3c1d0e8f6a4b2c9d7e5f3a1b0c8d6e4f2a3c5e7d1b9",
          "ImageName": "localhost/kubernaut/datastorage:signalprocessing-3f2a9c1d",
          "Rootfs": "",
          "Pod": "",
          "ResolvConfPath": "/run/user/1000/containers/overlay-containers/7c3f9a2e51d84b06a9e1f3c5d7b2e4a6f8c0d1e3b5a7c9e2f4d6b8a0c1e3f5a7/userdata/resolv.conf",
          "HostnamePath": "/run/user/1000/containers/overlay-containers/7c3f9a2e51d84b06a9e1f3c5d7b2e4a6f8c0d1e3b5a7c9e2f4d6b8a0c1e3f5a7/userdata/hostname",
          "HostsPath": "/run/user/1000/containers/overlay-containers/7c3f9a2e51d84b06a9e1f3c5d7b2e4a6f8c0d1e3b5a7c9e2f4d6b8a0c1e3f5a7/userdata/hosts",
          "StaticDir": "/home/jgil/.local/share/containers/storage/overlay-containers/7c3f9a2e51d84b06a9e1f3c5d7b2e4a6f8c0d1e3b5a7c9e2f4d6b8a0c1e3f5a7/userdata",
          "OCIConfigPath": "/home/jgil/.local/share/containers/storage/overlay-containers/7c3f9a2e51d84b06a9e1f3c5d7b2e4a6f8c0d1e3b5a7c9e2f4d6b8a0c1e3f5a7/userdata/config.json",
          "OCIRuntime": "crun",
          "ConmonPidFile": "/run/user/1000/containers/overlay-containers/7c3f9a2e51d84b06a9e1f3c5d7b2e4a6f8c0d1e3b5a7c9e2f4d6b8a0c1e3f5a7/userdata/conmon.pid",
          "PidFile": "/run/user/1000/containers/overlay-containers/7c3f9a2e51d84b06a9e1f3c5d7b2e4a6f8c0d1e3b5a7c9e2f4d6b8a0c1e3f5a7/userdata/pidfile",
          "Name": "signalprocessing_datastorage_test",
          "RestartCount": 0,
          "Driver": "overlay",
          "MountLabel": "",
          "ProcessLabel": "",
          "AppArmorProfile": "",
          "EffectiveCaps": [
               "CAP_CHOWN",
               "CAP_DAC_OVERRIDE",
               "CAP_FOWNER",
               "CAP_FSETID",
               "CAP_KILL",
               "CAP_NET_BIND_SERVICE",
               "CAP_SETFCAP",
               "CAP_SETGID",
               "CAP_SETPCAP",
               "CAP_SETUID",
               "CAP_SYS_CHROOT"
          ],
          "BoundingCaps": [
               "CAP_CHOWN",
               "CAP_DAC_OVERRIDE",
               "CAP_FOWNER",
               "CAP_FSETID",
               "CAP_KILL",
               "CAP_NET_BIND_SERVICE",
               "CAP_SETFCAP",
               "CAP_SETGID",
               "CAP_SETPCAP",
               "CAP_SETUID",
               "CAP_SYS_CHROOT"
          ],
          "ExecIDs": [],
          "GraphDriver": {
               "Name": "overlay",
               "Data": {
                    "MergedDir": "/home/jgil/.local/share/containers/storage/overlay/7a5f3e1c0a8b6d4f2e9c7a5b3e1d0c8f6a4e2b7d5c3f1e9a60b48d15e2a9f3c7/merged"
               }
          },
          "Mounts": [],
          "Dependencies": [],
          "NetworkSettings": {
               "EndpointID": "",
               "Gateway": "",
               "IPAddress": "",
               "IPPrefixLen": 0,
               "IPv6Gateway": "",
               "GlobalIPv6Address": "",
               "GlobalIPv6PrefixLen": 0,
               "MacAddress": "",
               "Bridge": "",
               "SandboxID": "",
               "HairpinMode": false,
               "LinkLocalIPv6Address": "",
               "LinkLocalIPv6PrefixLen": 0,
               "Ports": {
                    "8080/tcp": [
                         {
                              "HostIp": "",
                              "HostPort": "18094"
                         }
                    ],
                    "9090/tcp": [
                         {
                              "HostIp": "",
                              "HostPort": "19094"
                         }
                    ]
               },
               "SandboxKey": "/run/user/1000/netns/netns-7c3f9a2e-aaaa-bbbb-cccc-51d84b06a9e1",
               "Networks": {
                    "signalprocessing_test_network": {
                         "EndpointID": "",
                         "Gateway": "10.89.1.1",
                         "IPAddress": "10.89.1.4",
                         "IPPrefixLen": 24,
                         "IPv6Gateway": "",
                         "GlobalIPv6Address": "",
                         "GlobalIPv6PrefixLen": 0,
                         "MacAddress": "6a:1f:0c:3e:9b:04",
                         "NetworkID": "signalprocessing_test_network",
                         "DriverOpts": null,
                         "IPAMConfig": null,
                         "Links": null,
                         "Aliases": [
                              "7c3f9a2e51d8"
                         ]
                    }
               }
          },
          "Namespace": "",
          "IsInfra": false,
          "IsService": false,
          "KubeExitCodePropagation": "invalid",
          "lockNumber": 4,
          "Config": {
               "Hostname": "7c3f9a2e51d8",
               "Domainname": "",
               "User": "",
               "AttachStdin": false,
               "AttachStdout": false,
               "AttachStderr": false,
               "Tty": false,
               "OpenStdin": false,
               "StdinOnce": false,
               "Env": [
                    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "container=oci",
                    "CONFIG_PATH=/etc/datastorage/config.yaml",
                    "POSTGRES_HOST=signalprocessing_postgres_test",
                    "POSTGRES_PORT=5432",
                    "POSTGRES_USER=slm_user",
                    "POSTGRES_PASSWORD=test_password",
                    "POSTGRES_DB=action_history",
                    "REDIS_ADDR=signalprocessing_redis_test:6379",
                    "PORT=8080",
                    "HOME=/home/data-storage-user",
                    "HOSTNAME=7c3f9a2e51d8"
               ],
               "Cmd": [],
               "Image": "localhost/kubernaut/datastorage:signalprocessing-3f2a9c1d",
               "Volumes": null,
               "WorkingDir": "/",
               "Entrypoint": "/usr/local/bin/data-storage",
               "OnBuild": null,
               "Labels": {},
               "Annotations": {
                    "io.container.manager": "libpod",
                    "org.opencontainers.image.stopSignal": "15"
               },
               "StopSignal": "SIGTERM",
               "Healthcheck": {
                    "Test": [
                         "CMD-SHELL",
                         "[\"/usr/bin/curl\", \"-f\", \"http://localhost:8080/health\"] || exit 1"
                    ],
                    "StartPeriod": 30000000000,
                    "Interval": 30000000000,
                    "Timeout": 10000000000,
                    "Retries": 3
               },
               "HealthcheckOnFailureAction": "none",
               "CreateCommand": [
                    "podman",
                    "run",
                    "-d",
                    "--name",
                    "signalprocessing_datastorage_test"
               ],
               "Umask": "0022",
               "Timeout": 0,
               "StopTimeout": 10,
               "Passwd": true,
               "sdNotifyMode": "container"
          },
          "HostConfig": {
               "Binds": [],
               "CgroupManager": "systemd",
               "CgroupMode": "private",
               "ContainerIDFile": "",
               "LogConfig": {
                    "Type": "journald",
                    "Config": null,
                    "Path": "",
                    "Tag": "",
                    "Size": "0B"
               },
               "NetworkMode": "bridge",
               "PortBindings": {
                    "8080/tcp": [
                         {
                              "HostIp": "",
                              "HostPort": "18094"
                         }
                    ],
                    "9090/tcp": [
                         {
                              "HostIp": "",
                              "HostPort": "19094"
                         }
                    ]
               },
               "RestartPolicy": {
                    "Name": "no",
                    "MaximumRetryCount": 0
               },
               "AutoRemove": false
          }
     }
]
"""

# `podman inspect signalprocessing_postgres_test`: no health check configured.
POSTGRES_INSPECT = r"""[
     {
          "Id": "2e8d4b6f0a1c3e5d7f9b2a4c6e8d0f1a3b5c7e9d2f4a6b8c0e1d3f5a7b9c2e4d",
          "Created": "2026-01-14T10:23:41.30151147-05:00",
          "Path": "docker-entrypoint.sh",
          "Args": [
               "postgres"
          ],
          "State": {
               "OciVersion": "1.2.0",
               "Status": "running",
               "Running": true,
               "Paused": false,
               "Restarting": false,
               "OOMKilled": false,
               "Dead": false,
               "Pid": 411902,
               "ConmonPid": 411900,
               "ExitCode": 0,
               "Error": "",
               "StartedAt": "2026-01-14T10:23:41.512904371-05:00",
               "FinishedAt": "0001-01-01T00:00:00Z",
               "CgroupPath": "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-411902.scope",
               "CheckpointedAt": "0001-01-01T00:00:00Z",
               "RestoredAt": "0001-01-01T00:00:00Z"
          },
          "Image": "5d0a3c7e9f1b2d4e6a8c0f3b5d7e9a1c2e4f6b8d0a3c5e7f9b1d2a4c6e8f0b3d",
          "ImageDigest": "sha256:d3b0f8e6c4a2d1b9f7e5c3a0d8b6f4e2c1a9e7d5b3f0c8a6e4d2b1f9e7c3a0d5",
          "ImageName": "docker.io/library/postgres:16-alpine",
          "Rootfs": "",
          "Pod": "",
          "ResolvConfPath": "/run/user/1000/containers/overlay-containers/2e8d4b6f0a1c3e5d7f9b2a4c6e8d0f1a3b5c7e9d2f4a6b8c0e1d3f5a7b9c2e4d/userdata/resolv.conf",
          "HostnamePath": "/run/user/1000/containers/overlay-containers/2e8d4b6f0a1c3e5d7f9b2a4c6e8d0f1a3b5c7e9d2f4a6b8c0e1d3f5a7b9c2e4d/userdata/hostname",
          "HostsPath": "/run/user/1000/containers/overlay-containers/2e8d4b6f0a1c3e5d7f9b2a4c6e8d0f1a3b5c7e9d2f4a6b8c0e1d3f5a7b9c2e4d/userdata/hosts",
          "StaticDir": "/home/jgil/.local/share/containers/storage/overlay-containers/2e8d4b6f0a1c3e5d7f9b2a4c6e8d0f1a3b5c7e9d2f4a6b8c0e1d3f5a7b9c2e4d/userdata",
          "OCIConfigPath": "/home/jgil/.local/share/containers/storage/overlay-containers/2e8d4b6f0a1c3e5d7f9b2a4c6e8d0f1a3b5c7e9d2f4a6b8c0e1d3f5a7b9c2e4d/userdata/config.json",
          "OCIRuntime": "crun",
          "ConmonPidFile": "/run/user/1000/containers/overlay-containers/2e8d4b6f0a1c3e5d7f9b2a4c6e8d0f1a3b5c7e9d2f4a6b8c0e1d3f5a7b9c2e4d/userdata/conmon.pid",
          "PidFile": "/run/user/1000/containers/overlay-containers/2e8d4b6f0a1c3e5d7f9b2a4c6e8d0f1a3b5c7e9d2f4a6b8c0e1d3f5a7b9c2e4d/userdata/pidfile",
          "Name": "signalprocessing_postgres_test",
          "RestartCount": 0,
          "Driver": "overlay",
          "MountLabel": "",
          "ProcessLabel": "",
          "AppArmorProfile": "",
          "EffectiveCaps": [
               "CAP_CHOWN",
               "CAP_DAC_OVERRIDE",
               "CAP_FOWNER",
               "CAP_FSETID",
               "CAP_KILL",
               "CAP_NET_BIND_SERVICE",
               "CAP_SETFCAP",
               "CAP_SETGID",
               "CAP_SETPCAP",
               "CAP_SETUID",
               "CAP_SYS_CHROOT"
          ],
          "BoundingCaps": [
               "CAP_CHOWN",
               "CAP_DAC_OVERRIDE",
               "CAP_FOWNER",
               "CAP_FSETID",
               "CAP_KILL",
               "CAP_NET_BIND_SERVICE",
               "CAP_SETFCAP",
               "CAP_SETGID",
               "CAP_SETPCAP",
               "CAP_SETUID",
               "CAP_SYS_CHROOT"
          ],
          "ExecIDs": [],
          "GraphDriver": {
               "Name": "overlay",
               "Data": {
                    "MergedDir": "/home/jgil/.local/share/containers/storage/overlay/d4e2c9b7a5f3d1e0c8b6a4f2d9e7c5b3a1f0d8e6c4a2b9f7d5e3c1a0f6b4d8e2/merged"
               }
          },
          "Mounts": [],
          "Dependencies": [],
          "NetworkSettings": {
               "EndpointID": "",
               "Gateway": "",
               "IPAddress": "",
               "IPPrefixLen": 0,
               "IPv6Gateway": "",
               "GlobalIPv6Address": "",
               "GlobalIPv6PrefixLen": 0,
               "MacAddress": "",
               "Bridge": "",
               "SandboxID": "",
               "HairpinMode": false,
               "LinkLocalIPv6Address": "",
               "LinkLocalIPv6PrefixLen": 0,
               "Ports": {
                    "5432/tcp": [
                         {
                              "HostIp": "",
                              "HostPort": "15436"
                         }
                    ]
               },
               "SandboxKey": "/run/user/1000/netns/netns-2e8d4b6f-aaaa-bbbb-cccc-0a1c3e5d7f9b",
               "Networks": {
                    "signalprocessing_test_network": {
                         "EndpointID": "",
                         "Gateway": "10.89.1.1",
                         "IPAddress": "10.89.1.2",
                         "IPPrefixLen": 24,
                         "IPv6Gateway": "",
                         "GlobalIPv6Address": "",
                         "GlobalIPv6PrefixLen": 0,
                         "MacAddress": "6a:1f:0c:3e:9b:02",
                         "NetworkID": "signalprocessing_test_network",
                         "DriverOpts": null,
                         "IPAMConfig": null,
                         "Links": null,
                         "Aliases": [
                              "2e8d4b6f0a1c"
                         ]
                    }
               }
          },
          "Namespace": "",
          "IsInfra": false,
          "IsService": false,
          "KubeExitCodePropagation": "invalid",
          "lockNumber": 2,
          "Config": {
               "Hostname": "2e8d4b6f0a1c",
               "Domainname": "",
               "User": "",
               "AttachStdin": false,
               "AttachStdout": false,
               "AttachStderr": false,
               "Tty": false,
               "OpenStdin": false,
               "StdinOnce": false,
               "Env": [
                    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "container=podman",
                    "POSTGRES_DB=action_history",
                    "POSTGRES_USER=slm_user",
                    "POSTGRES_PASSWORD=test_password",
                    "GOSU_VERSION=1.19",
                    "LANG=en_US.utf8",
                    "PG_MAJOR=16",
                    "PG_VERSION=16.11",
                    "PG_SHA256=6deb08c23d03d77d8f8bd1c14049eeef64aef8968fd8891df2dfc0b42f178eac",
                    "DOCKER_PG_LLVM_DEPS=llvm19-dev \t\tclang19",
                    "PGDATA=/var/lib/postgresql/data",
                    "HOME=/root",
                    "HOSTNAME=2e8d4b6f0a1c"
               ],
               "Cmd": [
                    "postgres"
               ],
               "Image": "docker.io/library/postgres:16-alpine",
               "Volumes": null,
               "WorkingDir": "/",
               "Entrypoint": "docker-entrypoint.sh",
               "OnBuild": null,
               "Labels": {},
               "Annotations": {
                    "io.container.manager": "libpod",
                    "org.opencontainers.image.stopSignal": "15"
               },
               "StopSignal": "SIGTERM",
               "CreateCommand": [
                    "podman",
                    "run",
                    "-d",
                    "--name",
                    "signalprocessing_postgres_test"
               ],
               "Umask": "0022",
               "Timeout": 0,
               "StopTimeout": 10,
               "Passwd": true,
               "sdNotifyMode": "container"
          },
          "HostConfig": {
               "Binds": [],
               "CgroupManager": "systemd",
               "CgroupMode": "private",
               "ContainerIDFile": "",
               "LogConfig": {
                    "Type": "journald",
                    "Config": null,
                    "Path": "",
                    "Tag": "",
                    "Size": "0B"
               },
               "NetworkMode": "bridge",
               "PortBindings": {
                    "5432/tcp": [
                         {
                              "HostIp": "",
                              "HostPort": "15436"
                         }
                    ]
               },
               "RestartPolicy": {
                    "Name": "no",
                    "MaximumRetryCount": 0
               },
               "AutoRemove": false
          }
     }
]
"""

# `podman inspect signalprocessing_redis_test`: no health check configured.
REDIS_INSPECT = r"""[
     {
          "Id": "a4f6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a6",
          "Created": "2026-01-14T10:23:51.86621893-05:00",
          "Path": "docker-entrypoint.sh",
          "Args": [
               "redis-server"
          ],
          "State": {
               "OciVersion": "1.2.0",
               "Status": "running",
               "Running": true,
               "Paused": false,
               "Restarting": false,
               "OOMKilled": false,
               "Dead": false,
               "Pid": 412180,
               "ConmonPid": 412178,
               "ExitCode": 0,
               "Error": "",
               "StartedAt": "2026-01-14T10:23:52.041736552-05:00",
               "FinishedAt": "0001-01-01T00:00:00Z",
               "CgroupPath": "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-412180.scope",
               "CheckpointedAt": "0001-01-01T00:00:00Z",
               "RestoredAt": "0001-01-01T00:00:00Z"
          },
          "Image": "e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b5",
          "ImageDigest": "sha256:5b3e1c9a7f5d3b1e9c7a5f3d1b9e7c5a3f1d9b7e5c3a1f9d7b5e3c1a9f7d5b3e",
          "ImageName": "docker.io/library/redis:7-alpine",
          "Rootfs": "",
          "Pod": "",
          "ResolvConfPath": "/run/user/1000/containers/overlay-containers/a4f6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a6/userdata/resolv.conf",
          "HostnamePath": "/run/user/1000/containers/overlay-containers/a4f6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a6/userdata/hostname",
          "HostsPath": "/run/user/1000/containers/overlay-containers/a4f6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a6/userdata/hosts",
          "StaticDir": "/home/jgil/.local/share/containers/storage/overlay-containers/a4f6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a6/userdata",
          "OCIConfigPath": "/home/jgil/.local/share/containers/storage/overlay-containers/a4f6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a6/userdata/config.json",
          "OCIRuntime": "crun",
          "ConmonPidFile": "/run/user/1000/containers/overlay-containers/a4f6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a6/userdata/conmon.pid",
          "PidFile": "/run/user/1000/containers/overlay-containers/a4f6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a6/userdata/pidfile",
          "Name": "signalprocessing_redis_test",
          "RestartCount": 0,
          "Driver": "overlay",
          "MountLabel": "",
          "ProcessLabel": "",
          "AppArmorProfile": "",
          "EffectiveCaps": [
               "CAP_CHOWN",
               "CAP_DAC_OVERRIDE",
               "CAP_FOWNER",
               "CAP_FSETID",
               "CAP_KILL",
               "CAP_NET_BIND_SERVICE",
               "CAP_SETFCAP",
               "CAP_SETGID",
               "CAP_SETPCAP",
               "CAP_SETUID",
               "CAP_SYS_CHROOT"
          ],
          "BoundingCaps": [
               "CAP_CHOWN",
               "CAP_DAC_OVERRIDE",
               "CAP_FOWNER",
               "CAP_FSETID",
               "CAP_KILL",
               "CAP_NET_BIND_SERVICE",
               "CAP_SETFCAP",
               "CAP_SETGID",
               "CAP_SETPCAP",
               "CAP_SETUID",
               "CAP_SYS_CHROOT"
          ],
          "ExecIDs": [],
          "GraphDriver": {
               "Name": "overlay",
               "Data": {
                    "MergedDir": "/home/jgil/.local/share/containers/storage/overlay/6a4f2d0b8e6c4a2f0d8b6e4c2a0f8d6b4e2c0a8f6d4b2e0c8a6f4d2b0e8c6f4a/merged"
               }
          },
          "Mounts": [],
          "Dependencies": [],
          "NetworkSettings": {
               "EndpointID": "",
               "Gateway": "",
               "IPAddress": "",
               "IPPrefixLen": 0,
               "IPv6Gateway": "",
               "GlobalIPv6Address": "",
               "GlobalIPv6PrefixLen": 0,
               "MacAddress": "",
               "Bridge": "",
               "SandboxID": "",
               "HairpinMode": false,
               "LinkLocalIPv6Address": "",
               "LinkLocalIPv6PrefixLen": 0,
               "Ports": {
                    "6379/tcp": [
                         {
                              "HostIp": "",
                              "HostPort": "16382"
                         }
                    ]
               },
               "SandboxKey": "/run/user/1000/netns/netns-a4f6c8e0-aaaa-bbbb-cccc-b2d4f6a8c0e2",
               "Networks": {
                    "signalprocessing_test_network": {
                         "EndpointID": "",
                         "Gateway": "10.89.1.1",
                         "IPAddress": "10.89.1.3",
                         "IPPrefixLen": 24,
                         "IPv6Gateway": "",
                         "GlobalIPv6Address": "",
                         "GlobalIPv6PrefixLen": 0,
                         "MacAddress": "6a:1f:0c:3e:9b:03",
                         "NetworkID": "signalprocessing_test_network",
                         "DriverOpts": null,
                         "IPAMConfig": null,
                         "Links": null,
                         "Aliases": [
                              "a4f6c8e0b2d4"
                         ]
                    }
               }
          },
          "Namespace": "",
          "IsInfra": false,
          "IsService": false,
          "KubeExitCodePropagation": "invalid",
          "lockNumber": 3,
          "Config": {
               "Hostname": "a4f6c8e0b2d4",
               "Domainname": "",
               "User": "",
               "AttachStdin": false,
               "AttachStdout": false,
               "AttachStderr": false,
               "Tty": false,
               "OpenStdin": false,
               "StdinOnce": false,
               "Env": [
                    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "container=podman",
                    "REDIS_VERSION=7.4.7",
                    "REDIS_DOWNLOAD_URL=http://download.redis.io/releases/redis-7.4.7.tar.gz",
                    "REDIS_DOWNLOAD_SHA=9cd7a5ca6b9d3f1e2c1b6e8f5f0f5f0ab7cbb2e3d1b5e0a1f1d7c4b3a2e5f6d7",
                    "HOME=/root",
                    "HOSTNAME=a4f6c8e0b2d4"
               ],
               "Cmd": [
                    "redis-server"
               ],
               "Image": "docker.io/library/redis:7-alpine",
               "Volumes": null,
               "WorkingDir": "/",
               "Entrypoint": "docker-entrypoint.sh",
               "OnBuild": null,
               "Labels": {},
               "Annotations": {
                    "io.container.manager": "libpod",
                    "org.opencontainers.image.stopSignal": "15"
               },
               "StopSignal": "SIGTERM",
               "CreateCommand": [
                    "podman",
                    "run",
                    "-d",
                    "--name",
                    "signalprocessing_redis_test"
               ],
               "Umask": "0022",
               "Timeout": 0,
               "StopTimeout": 10,
               "Passwd": true,
               "sdNotifyMode": "container"
          },
          "HostConfig": {
               "Binds": [],
               "CgroupManager": "systemd",
               "CgroupMode": "private",
               "ContainerIDFile": "",
               "LogConfig": {
                    "Type": "journald",
                    "Config": null,
                    "Path": "",
                    "Tag": "",
                    "Size": "0B"
               },
               "NetworkMode": "bridge",
               "PortBindings": {
                    "6379/tcp": [
                         {
                              "HostIp": "",
                              "HostPort": "16382"
                         }
                    ]
               },
               "RestartPolicy": {
                    "Name": "no",
                    "MaximumRetryCount": 0
               },
               "AutoRemove": false
          }
     }
]
"""


def _parse(text: str, source: Source = DS_SOURCE) -> ParseResult:
    return parse(split_lines(text.encode()).frame, source)


def _rows(result: ParseResult, record: str) -> list[dict[str, object]]:
    rows = result.events.filter(pl.col("record") == record).sort("line").to_dicts()
    for row in rows:
        row["attrs"] = json.loads(row["attrs"])
    return rows


def _check_accounting(text: str, result: ParseResult) -> None:
    """Every line is inside a container span, structural, or unparsed, and never both covered and unparsed."""
    lines = split_lines(text.encode()).frame
    covered: set[int] = set()
    for line, n_lines in result.events.select("line", "n_lines").iter_rows():
        covered.update(range(line, line + n_lines))
    unparsed = set(result.unparsed["line"].to_list())
    assert not unparsed & covered
    structural = set(
        lines.filter(pl.col("raw").str.strip_chars().is_in(["", "[", "]", ",", "[]"]))["line"].to_list()
    )
    assert covered | unparsed | structural == set(lines["line"].to_list())


def test_datastorage_container_state_is_read() -> None:
    """The DataStorage inspect gives one container record with its state, image, ports and health summary."""
    result = _parse(DATASTORAGE_INSPECT)
    validate_events(result.events)
    (row,) = _rows(result, "container")
    attrs = row["attrs"]
    assert attrs["name"] == "signalprocessing_datastorage_test"
    assert attrs["image"] == "localhost/kubernaut/datastorage:signalprocessing-3f2a9c1d"
    assert attrs["status"] == "running"
    assert attrs["running"] is True
    assert attrs["exit_code"] == 0
    assert attrs["oom_killed"] is False
    assert attrs["restart_count"] == 0
    assert attrs["health_status"] == "unhealthy"
    assert attrs["failing_streak"] == 3
    assert attrs["ports"] == ["8080/tcp->0.0.0.0:18094", "9090/tcp->0.0.0.0:19094"]
    assert attrs["started_at"] == "2026-01-14T15:24:12.873109226Z"
    assert attrs["finished_at"] is None
    assert row["ts"] == datetime(2026, 1, 14, 15, 24, 12, 873109, tzinfo=UTC)
    assert row["ts_precision"] == "ns"
    assert row["level"] == "warn"
    assert row["message"] == "signalprocessing_datastorage_test: running, health unhealthy"
    assert row["line"] == 2
    assert row["n_lines"] == 255
    assert row["raw"] == "     {"
    assert row["service"] == "datastorage"
    assert row["logger"] == "podman"


def test_datastorage_health_probes_cite_their_start_lines() -> None:
    """Each Health.Log entry is a warn health record at its `"Start"` line with the malformed-HEALTHCHECK output."""
    result = _parse(DATASTORAGE_INSPECT)
    probes = _rows(result, "health")
    assert [p["line"] for p in probes] == [26, 32, 38, 44]
    lines = DATASTORAGE_INSPECT.splitlines()
    for probe in probes:
        assert lines[probe["line"] - 1].strip().startswith('"Start": "2026-01-14T10:')
        assert probe["raw"] == lines[probe["line"] - 1]
        assert probe["n_lines"] == 5
        assert probe["level"] == "warn"
        assert probe["message"] == "/bin/sh: line 1: [/usr/bin/curl,: No such file or directory"
        assert probe["attrs"]["exit_code"] == 1
        assert probe["attrs"]["container"] == "signalprocessing_datastorage_test"
    assert probes[0]["ts"] == datetime(2026, 1, 14, 15, 24, 43, 118270, tzinfo=UTC)
    assert probes[1]["attrs"]["end"] == "2026-01-14T15:25:13.198004120Z"


def test_secret_environment_values_are_redacted() -> None:
    """POSTGRES_PASSWORD's value is replaced while ordinary variables are kept as they are."""
    (ds,) = _rows(_parse(DATASTORAGE_INSPECT), "container")
    env = ds["attrs"]["env"]
    assert "POSTGRES_PASSWORD=[REDACTED]" in env
    assert "POSTGRES_USER=slm_user" in env
    assert "REDIS_ADDR=signalprocessing_redis_test:6379" in env
    assert not any("test_password" in entry for entry in env)
    (pg,) = _rows(_parse(POSTGRES_INSPECT, PG_SOURCE), "container")
    assert "POSTGRES_PASSWORD=[REDACTED]" in pg["attrs"]["env"]
    assert "PGDATA=/var/lib/postgresql/data" in pg["attrs"]["env"]


def test_well_formed_documents_are_fully_understood() -> None:
    """All lines of the three inspect documents are covered or structural, with no problems reported."""
    for text, source in (
        (DATASTORAGE_INSPECT, DS_SOURCE),
        (POSTGRES_INSPECT, PG_SOURCE),
        (REDIS_INSPECT, RD_SOURCE),
    ):
        result = _parse(text, source)
        validate_events(result.events)
        assert result.unparsed.height == 0
        assert result.facts == {"shape": "array", "containers": 1}
        _check_accounting(text, result)


def test_postgres_and_redis_have_no_health_records() -> None:
    """Containers without a health check give a container record with null health and no probes."""
    for text, source, name, port in (
        (POSTGRES_INSPECT, PG_SOURCE, "signalprocessing_postgres_test", "5432/tcp->0.0.0.0:15436"),
        (REDIS_INSPECT, RD_SOURCE, "signalprocessing_redis_test", "6379/tcp->0.0.0.0:16382"),
    ):
        result = _parse(text, source)
        assert _rows(result, "health") == []
        (row,) = _rows(result, "container")
        assert row["attrs"]["name"] == name
        assert row["attrs"]["health_status"] is None
        assert row["attrs"]["ports"] == [port]
        assert row["level"] == "info"
        assert row["message"] == f"{name}: running"


def test_several_containers_in_one_array() -> None:
    """An array of two objects gives two container records at their own start lines."""
    pg = POSTGRES_INSPECT.strip().removeprefix("[").removesuffix("]").strip("\n")
    rd = REDIS_INSPECT.strip().removeprefix("[").removesuffix("]").strip("\n")
    text = "[\n" + pg + ",\n" + rd + "\n]\n"
    result = _parse(text, PG_SOURCE)
    rows = _rows(result, "container")
    assert [r["attrs"]["name"] for r in rows] == [
        "signalprocessing_postgres_test",
        "signalprocessing_redis_test",
    ]
    assert rows[1]["line"] == rows[0]["line"] + rows[0]["n_lines"]
    assert result.unparsed.height == 0
    _check_accounting(text, result)


DOCKER_INSPECT = """\
[
    {
        "Id": "0b7c5d2e",
        "Created": "2026-01-14T15:23:41.30151147Z",
        "State": {
            "Status": "exited",
            "Running": false,
            "OOMKilled": true,
            "ExitCode": 137,
            "StartedAt": "2026-01-14T15:23:41.512904371Z",
            "FinishedAt": "2026-01-14T15:30:02.1Z",
            "Health": {
                "Status": "unhealthy",
                "FailingStreak": 1,
                "Log": [
                    {
                        "Start": "2026-01-14T15:29:41.5Z",
                        "End": "2026-01-14T15:29:41.6Z",
                        "ExitCode": 0,
                        "Output": "OK\\n"
                    }
                ]
            }
        },
        "Image": "sha256:5d0a3c7e",
        "Name": "/ds",
        "RestartCount": 2,
        "Config": {
            "Env": ["DATABASE_URL=postgres://slm_user:hunter2@db:5432/action_history?sslmode=disable"],
            "Image": "postgres:16-alpine"
        },
        "NetworkSettings": {
            "Ports": {
                "5432/tcp": [{"HostIp": "127.0.0.1", "HostPort": "15436"}, {"HostIp": "::", "HostPort": "15436"}],
                "8081/tcp": null
            }
        }
    }
]
"""


def test_docker_inspect_format_is_accepted() -> None:
    """docker inspect's 4-space document, slash-prefixed name, Z times and Config.Image are read."""
    result = _parse(DOCKER_INSPECT)
    assert result.unparsed.height == 0
    (row,) = _rows(result, "container")
    attrs = row["attrs"]
    assert attrs["name"] == "ds"
    assert attrs["image"] == "postgres:16-alpine"
    assert attrs["exit_code"] == 137
    assert attrs["oom_killed"] is True
    assert attrs["restart_count"] == 2
    assert attrs["finished_at"] == "2026-01-14T15:30:02.100Z"
    assert attrs["ports"] == ["5432/tcp->127.0.0.1:15436", "5432/tcp->:::15436", "8081/tcp"]
    assert attrs["env"] == [
        "DATABASE_URL=postgres://slm_user:[REDACTED]@db:5432/action_history?sslmode=disable"
    ]
    assert row["level"] == "error"
    assert row["message"] == "ds: exited, health unhealthy, exit code 137"
    (probe,) = _rows(result, "health")
    assert probe["level"] == "info"
    assert probe["message"] == "OK"
    assert probe["line"] == 17
    assert probe["ts_precision"] == "ms"


def test_single_object_document_is_accepted() -> None:
    """A document holding one container object rather than an array still yields its container."""
    text = '{"Id": "3f1c", "Name": "signalprocessing_redis_test", "State": {"Status": "created"}}\n'
    result = _parse(text, RD_SOURCE)
    (row,) = _rows(result, "container")
    assert row["attrs"]["status"] == "created"
    assert row["ts"] is None
    assert result.facts["shape"] == "object"
    assert result.unparsed.height == 0


def test_truncated_document_keeps_what_it_can() -> None:
    """A document cut inside its second container keeps the first; the broken tail is unparsed and explained."""
    pg = POSTGRES_INSPECT.strip().removeprefix("[").removesuffix("]").strip("\n")
    ds = DATASTORAGE_INSPECT.strip().removeprefix("[").removesuffix("]").strip("\n")
    full = "[\n" + pg + ",\n" + ds + "\n]\n"
    cut = "\n".join(full.splitlines()[:260]) + "\n"
    result = _parse(cut)
    validate_events(result.events)
    rows = _rows(result, "container")
    assert [r["attrs"]["name"] for r in rows] == ["signalprocessing_postgres_test"]
    first_broken = rows[0]["line"] + rows[0]["n_lines"]
    assert result.unparsed["line"].min() == first_broken
    assert result.unparsed["line"].max() == 260
    assert any(p.startswith("JSON error at line ") for p in result.facts["problems"])
    assert result.facts["notes"] == [
        f"present but unreadable: {result.facts['problems'][0]} (1 container(s) read before it)"
    ]
    _check_accounting(cut, result)


def test_unclosed_array_is_reported() -> None:
    """A document whose closing bracket is missing keeps its containers and says the array is not closed."""
    text = REDIS_INSPECT.rstrip().removesuffix("]")
    result = _parse(text, RD_SOURCE)
    assert len(_rows(result, "container")) == 1
    assert result.facts["problems"] == ["the array is not closed (truncated document?)"]


def test_wrong_types_are_coerced_or_nulled_and_noted() -> None:
    """An exit code given as text is read as a number, an odd Running value is null, and both are noted."""
    text = (
        '[{"Name": "x", "State": {"Status": "exited", "Running": "maybe", "ExitCode": "1", '
        '"OOMKilled": 0, "StartedAt": 5, "Health": {"Status": "unhealthy", "Log": "not a list"}}, '
        '"Config": {"Env": "A=1"}, "NetworkSettings": {"Ports": []}}]\n'
    )
    result = _parse(text)
    (row,) = _rows(result, "container")
    assert row["attrs"]["exit_code"] == 1
    assert row["attrs"]["running"] is None
    assert row["attrs"]["oom_killed"] is None
    assert row["attrs"]["env"] == []
    assert row["ts"] is None
    problems = result.facts["problems"]
    assert any("State.ExitCode is str" in p for p in problems)
    assert any("State.Running is str" in p for p in problems)
    assert any("State.Health.Log is str" in p for p in problems)
    assert result.unparsed.height == 0


def test_integers_beyond_64_bits_are_nulled_and_noted() -> None:
    """An exit code or restart count too large for the table is dropped with a note, not a failure."""
    text = (
        '[{"Name": "x", "RestartCount": -100000000000000000000, "State": {"Status": "exited", '
        '"Running": false, "ExitCode": 1000000000000000000000000000000, "Health": {"Status": "unhealthy", '
        '"Log": [{"Start": "2026-01-14T10:25:01Z", "ExitCode": 99999999999999999999}]}}}]\n'
    )
    result = _parse(text)
    (row,) = _rows(result, "container")
    assert row["attrs"]["exit_code"] is None
    assert row["attrs"]["restart_count"] is None
    problems = result.facts["problems"]
    assert any("State.ExitCode is int" in p for p in problems)
    assert any("RestartCount is int" in p for p in problems)
    assert any("Health.Log.ExitCode is int" in p for p in problems)


def test_non_container_values_are_unparsed() -> None:
    """A top-level scalar, or an array element that is not a container, is unparsed with a problem fact."""
    scalar = _parse('"hello"\n')
    assert scalar.events.height == 0
    assert scalar.unparsed["line"].to_list() == [1]
    assert scalar.facts["problems"] == ["top-level value is str, not an array or object"]
    mixed = _parse('[\n  42,\n  {"Name": "a", "State": {}}\n]\n')
    assert len(_rows(mixed, "container")) == 1
    assert mixed.unparsed["line"].to_list() == [2]
    assert "element 1 (line 2) is int, not a container" in mixed.facts["problems"]


def test_empty_document_has_no_records_and_no_unparsed_lines() -> None:
    """An empty file and an empty array give no records and nothing unparsed."""
    for text in ("", "[]\n", "[\n]\n"):
        result = _parse(text)
        assert result.events.height == 0
        assert result.unparsed.height == 0
        validate_events(result.events)


def test_redact_env_hides_secrets_only() -> None:
    """Secret-looking names lose their value; URL and keyword-DSN passwords are hidden in any variable."""
    assert redact_env("POSTGRES_PASSWORD=test_password") == "POSTGRES_PASSWORD=[REDACTED]"
    assert redact_env("API_TOKEN=abc") == "API_TOKEN=[REDACTED]"
    assert redact_env("aws_secret_access_key=abc") == "aws_secret_access_key=[REDACTED]"
    assert redact_env("REDIS_AUTH=x") == "REDIS_AUTH=[REDACTED]"
    assert redact_env("DB_CREDENTIALS=u:p") == "DB_CREDENTIALS=[REDACTED]"
    assert (
        redact_env("DSN=postgresql://slm_user:pw@db:5432/x")
        == "DSN=postgresql://slm_user:[REDACTED]@db:5432/x"
    )
    assert (
        redact_env("CONN=host=db user=u password=pw dbname=x")
        == "CONN=host=db user=u password=[REDACTED] dbname=x"
    )
    assert redact_env("REDIS_ADDR=redis:6379") == "REDIS_ADDR=redis:6379"
    assert redact_env("URL=http://example.com/a@b") == "URL=http://example.com/a@b"
    assert redact_env("NOEQUALS") == "NOEQUALS"


def _json_values() -> st.SearchStrategy[object]:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8))
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(
                st.sampled_from(
                    ["Name", "State", "Health", "Log", "Start", "ExitCode", "Config", "Env", "x"]
                ),
                inner,
                max_size=4,
            ),
        ),
        max_leaves=12,
    )


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_raises(text: str) -> None:
    """Any text parses without error, passes validation and is accounted for."""
    result = _parse(text)
    validate_events(result.events)
    _check_accounting(text, result)


@settings(max_examples=60, deadline=None)
@given(_json_values(), st.integers(min_value=0, max_value=400))
def test_arbitrary_json_never_raises(value: object, cut: int) -> None:
    """Any JSON value, whole or cut short, parses without error and is accounted for."""
    text = json.dumps([value], indent=5)
    for candidate in (text, text[:cut]):
        result = _parse(candidate)
        validate_events(result.events)
        _check_accounting(candidate, result)
