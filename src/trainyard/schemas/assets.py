"""Wire models of the assets jobs use: environments, data, code, computes and datastores.

Versioned assets are created or updated with ``PUT .../{kind}/{name}/versions/{version}``; what
a version *is* (its requirements, its path, its files) cannot change once registered, only its
description and tags.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _AssetBase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str = Field(default="", max_length=5000)
    tags: dict[str, str] = Field(default_factory=dict)


class _AssetPublic(BaseModel):
    name: str
    version: str
    description: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    created_at: int = 0
    updated_at: int = 0


class EnvironmentCreate(_AssetBase):
    """A Python environment: a version of Python and pip requirements, built once and cached.

    ``system_site_packages`` (default true) lets the environment see the packages of the
    server's interpreter (Trainyard itself included); its own requirements come first.
    """

    python: str | None = Field(default=None, pattern=r"^3\.\d{1,2}$")
    requirements: list[str] = Field(default_factory=list, max_length=500)
    system_site_packages: bool = True


class Environment(_AssetPublic):
    """An environment version (``python`` is the built-in one: the server's interpreter)."""

    python: str
    requirements: list[str] = Field(default_factory=list)
    system_site_packages: bool = True
    hash: str
    builtin: bool = False


class EnvironmentList(BaseModel):
    """Environment versions, by name then newest version first."""

    environments: list[Environment]


class DataAssetCreate(_AssetBase):
    """A data asset: a file (``uri_file``), a folder (``uri_folder``) or a table (CSV/Parquet).

    ``path`` is an http(s) URL the data is fetched from, or ``datastore://<datastore>/<path>``
    inside a datastore; leave it out to use the files uploaded to this version
    (``PUT .../data/{name}/versions/{version}/files/{path}``).
    """

    type: Literal["uri_file", "uri_folder", "table"] = "uri_folder"
    path: str | None = None


class DataAsset(_AssetPublic):
    """A data asset version; ``path`` is a URL, a ``datastore://`` URI or ``store:<key>`` in
    the artifact store (uploaded files, a job's registered output)."""

    type: str
    path: str
    files: int | None = None


class DataAssetList(BaseModel):
    """Data asset versions."""

    data: list[DataAsset]


class CodeAssetCreate(_AssetBase):
    """A code snapshot: the files uploaded to this version, content-hashed at registration."""


class CodeAsset(_AssetPublic):
    """A code asset version and the SHA-256 of its files (names and contents)."""

    hash: str
    files: int
    path: str


class CodeAssetList(BaseModel):
    """Code asset versions."""

    code: list[CodeAsset]


class ComputeCreate(BaseModel):
    """A compute: ``local`` processes, or a ``ray`` cluster (its dashboard address)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["local", "ray"]
    slots: int | None = Field(default=None, ge=1, le=10_000)
    address: str | None = None
    description: str = ""


class Compute(BaseModel):
    """A compute and how many jobs it runs at once."""

    model_config = ConfigDict(from_attributes=True)
    name: str
    type: str
    slots: int
    address: str | None = None
    description: str = ""
    builtin: bool = False
    created_at: int = 0


class ComputeList(BaseModel):
    """The computes of a workspace (``local`` is always there)."""

    computes: list[Compute]


class DatastoreCreate(BaseModel):
    """A datastore: an fsspec URL (``file:///srv/data``, ``s3://bucket/prefix``)."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=1, max_length=2000)
    description: str = Field(default="", max_length=5000)
    tags: dict[str, str] = Field(default_factory=dict)


class Datastore(BaseModel):
    """A datastore; ``default`` (type ``artifact_store``) is the server's artifact store."""

    name: str
    type: str
    url: str
    description: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    builtin: bool = False
    created_at: int = 0
    updated_at: int = 0


class DatastoreList(BaseModel):
    """The datastores of a workspace (``default`` is always there)."""

    datastores: list[Datastore]


class DataFile(BaseModel):
    """A file of a data asset version, relative to it."""

    path: str
    size: int


class DataFileList(BaseModel):
    """The files of a data asset version (a ``uri_file``: its one file)."""

    files: list[DataFile]


class RegisterOutput(BaseModel):
    """Register a job's output folder as a ``uri_folder`` data asset ``name:version``."""

    model_config = ConfigDict(extra="forbid")
    name: str
    version: str
    description: str = Field(default="", max_length=5000)
    tags: dict[str, str] = Field(default_factory=dict)


class UploadedFile(BaseModel):
    """A file stored by an upload."""

    path: str
    size: int
    sha256: str
