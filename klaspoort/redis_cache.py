"""Django's Redis cache, with one Redis client per connection pool instead of one per call.

Django's RedisCacheClient builds a new `redis.Redis` for every cache operation, and building
one fills its table of response callbacks (a few hundred entries): on the sign-in path, with
several cache operations per request (session, throttling counters, the access epoch), that
was a measurable part of each request's CPU (issue 17). A `redis.Redis` is safe to share
between threads (each command takes a connection from the pool), and it follows the pool
across a fork, so one per pool is enough. A project-level module: it imports no app.

The throttling counters run small Lua scripts through `RedisCache.run`: a counter's increment,
its window and its give-back are then one round trip instead of several, and atomic as a whole.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache import cache as default_cache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    # The pool helpers are Django's (private, so not in its type stubs).
    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
            client = self._client(connection_pool=pool)  # type: ignore[attr-defined]
            self._clients[index] = client
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
        self._scripts: dict[str, Any] = {}

    @property
    def _backend(self) -> Any:
        return self._cache  # type: ignore[attr-defined]  # Django's, not in its type stubs

    def run(self, script: str, keys: list[str], args: list[Any]) -> Any:
        """Run a Lua script on the server that takes the writes, in one round trip (EVALSHA; the
        script is loaded on first use). `keys` are cache keys and are made final here exactly as
        `get` and `set` make them, so what the script writes the rest of the code reads; values
        in `args` that the script stores must come from `encode`."""
        runner = self._scripts.get(script)
        if runner is None:
            runner = self._backend.get_client(write=True).register_script(script)
            self._scripts[script] = runner
        return runner(keys=[self.make_and_validate_key(k) for k in keys], args=args)

    def encode(self, value: Any) -> Any:
        """A value as this cache stores it (integers plain, so INCR works; the rest pickled)."""
        return self._backend._serializer.dumps(value)

    def decode(self, stored: Any) -> Any:
        """A value a script returned as stored, as `get` would return it."""
        return self._backend._serializer.loads(stored)


def redis_cache_of(cache: Any) -> RedisCache | None:
    """The project's Redis cache that `cache` is, or that Django's `cache` proxy stands for; None
    for any other backend (local memory), whose callers keep the portable cache operations."""
    if cache is default_cache:
        cache = caches[DEFAULT_CACHE_ALIAS]
    return cache if isinstance(cache, RedisCache) else None
