"""A generic web endpoint: HTTP GET or POST returning JSON, a JSONPath to the number.

GET: the plan's ``query`` is the path (and query string) after the source's
``address``. POST: the ``query`` is the JSON body, sent to ``address`` +
``path``. Headers (credentials) come from sources.yaml only.
"""

from __future__ import annotations

import json
from typing import ClassVar

import httpx

from phased.core.jsonpath import JsonPathError, as_number, find
from phased.errors import SourceQueryError
from phased.sources.base import SourceQuery
from phased.sources.config import SourceConfig
from phased.sources.transport import request_json


class WebSource:
    """Like Argo Rollouts' ``web`` provider."""

    kind: ClassVar[str] = "web"

    def __init__(self, name: str, config: SourceConfig, *, http: httpx.Client) -> None:
        self.name = name
        self.config = config
        self.http = http

    def query(self, request: SourceQuery) -> float:
        cfg = self.config
        assert cfg.address is not None
        path = request.jsonpath or cfg.jsonpath
        if path is None:
            raise SourceQueryError(
                "no jsonpath: give `jsonpath:` on the check or on the source", source=self.name
            )
        body = None
        if cfg.method == "GET":
            url = cfg.address + ("" if request.query.startswith("/") else "/") + request.query
        else:
            url = cfg.address + cfg.path
            try:
                body = json.loads(request.query)
            except json.JSONDecodeError as exc:
                raise SourceQueryError(
                    f"the query is the POST body and must be JSON: {exc}", source=self.name
                ) from None
        _status, data = request_json(
            self.http,
            cfg.method,
            url,
            source=self.name,
            timeout=cfg.timeout_seconds,
            headers=cfg.headers,
            body=body,
        )
        try:
            return as_number(find(data, path), path)
        except JsonPathError as exc:
            raise SourceQueryError(str(exc), source=self.name) from None
