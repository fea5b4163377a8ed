"""A read-only dataset that hands nodes a configured python-binance ``Client``."""

from __future__ import annotations

import os
from typing import Any

from binance.client import Client
from kedro.io import AbstractDataset, DatasetError


class BinanceClientDataset(AbstractDataset[None, Client]):
    """Loads a python-binance ``Client`` without touching the network.

    Klines are public, so API keys are optional. When needed they come from the
    catalog's ``credentials`` (``conf/local/credentials.yml``) or from the
    ``BINANCE_API_KEY`` / ``BINANCE_API_SECRET`` environment variables; keeping them
    here, not in parameters, keeps them out of logs and MLflow params.

    Example catalog entry::

        binance_client:
          type: cryptopythia.datasets.BinanceClientDataset
          credentials: binance          # optional: {api_key: ..., api_secret: ...}
          api_url: https://api.binance.com/api   # optional, e.g. a local test server
          timeout_seconds: 10
    """

    def __init__(
        self,
        *,
        credentials: dict[str, Any] | None = None,
        api_url: str | None = None,
        timeout_seconds: float = 10.0,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        credentials = credentials or {}
        self._api_key = credentials.get("api_key") or os.environ.get("BINANCE_API_KEY")
        self._api_secret = credentials.get("api_secret") or os.environ.get("BINANCE_API_SECRET")
        self._api_url = api_url
        self._timeout_seconds = timeout_seconds
        self.metadata = metadata

    def load(self) -> Client:
        # ping=False: the constructor must not reach the network; the first real
        # request is the fetch's server-time request, with retries around it.
        client = Client(
            self._api_key,
            self._api_secret,
            requests_params={"timeout": self._timeout_seconds},
            ping=False,
        )
        if self._api_url:
            client.API_URL = self._api_url.rstrip("/")
        return client

    def save(self, data: None) -> None:
        raise DatasetError("BinanceClientDataset is read-only.")

    def _describe(self) -> dict[str, Any]:
        # Never the keys themselves.
        return {
            "api_url": self._api_url,
            "timeout_seconds": self._timeout_seconds,
            "authenticated": bool(self._api_key),
        }
